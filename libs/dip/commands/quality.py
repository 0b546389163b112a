"""`dip quality report [--date D]`: expectation results and quarantined rows per silver table."""

from __future__ import annotations

from datetime import date

import typer

from dip.commands.common import EnvOption, config_or_exit, console, session, titled_table

quality_app = typer.Typer(help="Data quality of the silver tables.", no_args_is_help=True)


@quality_app.command("report")
def report_cmd(
    day: str | None = typer.Option(None, "--date", help="Only this UTC day (YYYY-MM-DD)."),
    fail_on_failure: bool = typer.Option(False, help="Exit 1 when any expectation failed."),
    env: EnvOption = None,
) -> None:
    """Expectations evaluated and failed, unexpected and quarantined rows per silver table."""
    from dip.quality.daily_quality import quality_report

    config = config_or_exit(env)
    rows = quality_report(session(config, "dip-quality-report"), config, date.fromisoformat(day) if day else None)
    table = titled_table(
        "quality report" + (f" {day}" if day else ""),
        ("table", "evaluated", "failed", "unexpected rows", "quarantined", "failed expectations"),
    )
    for r in rows:
        table.add_row(
            r.table, str(r.evaluated), str(r.failed), str(r.unexpected_rows), str(r.quarantined),
            ", ".join(r.failed_expectations) or "-",
        )  # fmt: skip
    console.print(table)
    failed = sum(r.failed for r in rows)
    console.print(f"quality: {sum(r.evaluated for r in rows)} results, {failed} failed")
    if failed and fail_on_failure:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.add_typer(quality_app, name="quality")
