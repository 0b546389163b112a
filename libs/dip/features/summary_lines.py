"""Plain-text summaries of feature runs and pushes, shared by the CLI and the spark-submit jobs."""

from __future__ import annotations

from dip.features.batch import FeatureRunSummary
from dip.features.completed_days import DayResult
from dip.features.push import ViewPush
from dip.features.specs import FEATURE_TABLE_SPECS


def day_line(result: DayResult) -> str:
    """One progress line per day."""
    if result.skipped:
        return f"  {result.day}: already completed, skipped (--force recomputes)"
    rows = ", ".join(f"{name}={n}" for name, n in result.rows.items())
    return f"  {result.day}: {rows} ({result.seconds:.1f}s)"


def _rate(rows: int, seconds: float) -> str:
    return f"{rows / seconds:,.0f}" if seconds > 0 else "-"


def run_lines(summary: FeatureRunSummary) -> list[str]:
    """Rows per table, time and rows/s of a run."""
    computed = [d for d in summary.days if not d.skipped]
    lines = [f"features: {len(computed)} day(s) computed, {len(summary.days) - len(computed)} skipped"]
    for name in FEATURE_TABLE_SPECS:
        lines.append(f"  {name:24} {summary.rows(name):>10,} rows")
    total = summary.total_rows
    lines.append(f"  {'total':24} {total:>10,} rows in {summary.seconds:.1f}s ({_rate(total, summary.seconds)} rows/s)")
    return lines


def push_lines(pushes: list[ViewPush]) -> list[str]:
    """Entities pushed per view, commits, time and rows/s."""
    lines = []
    for p in pushes:
        if p.to_commit == p.from_commit:
            lines.append(f"  {p.view:24} nothing new since commit {p.from_commit or '-'}")
            continue
        lines.append(
            f"  {p.view:24} commits ({p.from_commit or '-'}, {p.to_commit}]: {p.entities:,} entities, "
            f"{p.written:,} written, {p.skipped_stale:,} stale skipped in {p.seconds:.1f}s "
            f"({_rate(p.entities, p.seconds)} rows/s)"
        )
    return lines
