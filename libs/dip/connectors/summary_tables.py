"""Rich tables for the ``dip ingest`` / ``dip replay`` summaries."""

from __future__ import annotations

from rich.table import Table

from dip.connectors.ingest import SourceSummary
from dip.connectors.replay import ReplaySummary


def ingest_table(run_id: str, summaries: list[SourceSummary]) -> Table:
    table = Table(title=f"dip ingest  run {run_id}")
    for column in (
        "source",
        "accounts",
        "pages",
        "responses",
        "records",
        "unchanged",
        "retries",
        "429s",
        "DLQ",
        "skipped",
        "errors",
        "time",
    ):
        table.add_column(column, justify="left" if column == "source" else "right")
    for s in summaries:
        table.add_row(
            s.source,
            str(s.accounts),
            str(s.pages),
            str(s.responses),
            str(s.records),
            str(s.unchanged),
            str(s.retries),
            str(s.rate_limited),
            str(s.dlq),
            str(s.skipped_items),
            str(len(s.errors)),
            f"{s.seconds:.1f}s",
        )
    return table


def replay_table(summary: ReplaySummary) -> Table:
    table = Table(title=f"dip replay  {summary.source} {summary.date}")
    for column in ("responses", "pages", "records", "DLQ", "time"):
        table.add_column(column, justify="right")
    table.add_row(
        str(summary.responses), str(summary.pages), str(summary.records), str(summary.dlq), f"{summary.seconds:.1f}s"
    )
    return table
