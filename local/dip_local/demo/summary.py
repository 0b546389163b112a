"""What `dip demo` measured, and the closing summary tables."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from rich.console import Console
from rich.table import Table


@dataclass
class StageResult:
    """One demo stage: how long it took and what it counted."""

    name: str
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""


@dataclass
class DemoReport:
    stages: list[StageResult] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)  # rows per stage, cumulative in the lake
    locations: dict[str, str] = field(default_factory=dict)
    samples: dict[str, str] = field(default_factory=dict)
    freshness_s: float | None = None
    freshness_note: str = ""
    served_at: datetime | None = None  # on the ingest's clock, like fetched_at
    live_lag_s: float | None = None  # newest snapshot fetched -> its live view written (ingest clock)
    balanced: bool | None = None
    hints: list[str] = field(default_factory=list)


@contextmanager
def stage(report: DemoReport, console: Console, name: str) -> Iterator[StageResult]:
    """Time a stage, print its start and end, and add it to ``report``."""
    console.print(f"[bold cyan]>> {name}[/bold cyan]")
    result = StageResult(name, 0.0)
    started = time.monotonic()
    try:
        yield result
    finally:
        result.seconds = time.monotonic() - started
        report.stages.append(result)
        counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
        console.print(f"   done in {result.seconds:.1f}s {counts}")


def render(report: DemoReport, console: Console) -> None:
    """Print the stage timings, the rows per stage, locations, samples and next steps."""
    stages = Table(title="demo stages (this run)")
    for column in ("stage", "time", "counts", "note"):
        stages.add_column(column)
    for s in report.stages:
        counts = ", ".join(f"{k} {v}" for k, v in s.counts.items())
        stages.add_row(s.name, f"{s.seconds:.1f}s", counts, s.note)
    total = sum(s.seconds for s in report.stages)
    stages.add_row("total", f"{total:.1f}s", "", "", style="bold")
    console.print(stages)

    rows = Table(title="rows per stage (in the lake now)")
    rows.add_column("stage")
    rows.add_column("rows", justify="right")
    for name, count in report.rows.items():
        rows.add_row(name, str(count))
    console.print(rows)

    where = Table(title="where things are")
    where.add_column("what")
    where.add_column("location")
    for name, location in report.locations.items():
        where.add_row(name, location)
    console.print(where)
    for name, sample in report.samples.items():
        console.print(f"[bold]{name}[/bold]: {sample}", markup=True, soft_wrap=True)
    if report.freshness_s is not None:
        console.print(
            f"end-to-end freshness (newest API record fetched -> served by /v1/features): {report.freshness_s:.1f}s"
        )
    elif report.freshness_note:
        console.print(f"end-to-end freshness: {report.freshness_note}")
    if report.live_lag_s is not None:
        console.print(
            f"live freshness (newest API record fetched -> live view post_live written by stream_live): "
            f"{report.live_lag_s:.1f}s"
        )
    if report.balanced is not None:
        console.print("reconcile: " + ("[green]balanced[/green]" if report.balanced else "[red]NOT balanced[/red]"))
    for hint in report.hints:
        console.print(hint)
