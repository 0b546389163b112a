"""`dip quality report [--date D]`: expectation results and quarantined rows per silver table."""

from __future__ import annotations

from datetime import date
from functools import partial

import typer

from dip.commands import common
from dip.commands.common import CheckFailed, EnvOption, LogicalDateOption, RunIdOption

quality_app = typer.Typer(help="Data quality of the silver tables.", no_args_is_help=True)


@quality_app.command("report")
def report_cmd(
    day: str | None = typer.Option(None, "--date", help="Only this UTC day (YYYY-MM-DD)."),
    fail_on_failure: bool = typer.Option(False, help="Exit 1 when any expectation failed."),
    env: EnvOption = None,
    run_id: RunIdOption = None,
    logical_date: LogicalDateOption = None,
) -> None:
    """Expectations evaluated and failed, unexpected and quarantined rows per silver table."""
    from dip.job_specs import QUALITY_REPORT

    config = common.config_or_exit(env)
    report = partial(_report, config=config, day=day, fail_on_failure=fail_on_failure)
    common.run_check(QUALITY_REPORT, config, report, parent_run=run_id, logical_date=logical_date)


def _report(run, config, day: str | None, fail_on_failure: bool) -> str:
    """The per-table quality table, and the summary line; with ``fail_on_failure`` a failed expectation fails the
    run (:class:`CheckFailed`)."""
    from dip.quality.daily_quality import quality_report

    run.params.update({"date": day} if day else {})
    rows = quality_report(run.spark, config, date.fromisoformat(day) if day else None)
    table = common.titled_table(
        "quality report" + (f" {day}" if day else ""),
        ("table", "evaluated", "failed", "unexpected rows", "quarantined", "failed expectations"),
    )
    for r in rows:
        table.add_row(
            r.table, str(r.evaluated), str(r.failed), str(r.unexpected_rows), str(r.quarantined),
            ", ".join(r.failed_expectations) or "-",
        )  # fmt: skip
    common.console.print(table)
    failed = sum(r.failed for r in rows)
    run.counts.update({"evaluated": sum(r.evaluated for r in rows), "failed": failed})
    summary = f"quality: {sum(r.evaluated for r in rows)} results, {failed} failed"
    if failed and fail_on_failure:
        raise CheckFailed(summary)
    return summary


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.add_typer(quality_app, name="quality")
