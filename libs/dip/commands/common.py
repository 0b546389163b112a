"""Helpers shared by the command modules: config loading with a clean error, consoles, the --env option."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from dip.config import Config, ConfigError, load_config

# Wide enough for summary tables when output is piped (CI logs, `make demo | tee`).
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

EnvOption = Annotated[
    str | None, typer.Option("--env", help="Config environment (conf/<env>.yaml); default $DIP_ENV or local.")
]


class CheckFailed(Exception):
    """A check's negative outcome (an unbalanced ledger, a failed expectation): the run fails, the command exits 1
    after printing the check's summary as its last line."""


def run_check(job: Any, config: Config, body: Callable[[Any], str], **lineage: str | None) -> None:
    """A check command (reconcile, quality report) as one run of ``job`` through the runner: ``body(run)`` prints
    its table and returns its summary line, printed last; a :class:`CheckFailed` fails the run and exits 1."""
    from dip.job_runner import run_job

    app_name = f"dip-{job.name.replace('_', '-')}"
    try:
        with run_job(job, config, lambda: session(config, app_name), echo=console.print, **lineage) as run:
            summary = body(run)
    except CheckFailed as failed:
        console.print(str(failed))
        raise typer.Exit(1) from None
    console.print(summary)


RunIdOption = Annotated[
    str | None, typer.Option("--run-id", help="Orchestrator run reference, e.g. Airflow's dag/run/task/try (lineage).")
]
LogicalDateOption = Annotated[str | None, typer.Option("--logical-date", help="Logical date of the run (lineage).")]


def titled_table(title: str, columns: Sequence[str], right: Sequence[str] = ()) -> Table:
    """A rich table with ``columns`` (those in ``right`` right-aligned), the shape of every summary table."""
    table = Table(title=title)
    for column in columns:
        table.add_column(column, justify="right" if column in right else "left")
    return table


def config_or_exit(env: str | None) -> Config:
    try:
        return load_config(env)
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {exc}")
        raise typer.Exit(2) from None


def session(config: Config, app_name: str):
    from dip.spark import build_session

    return build_session(config, app_name=app_name)
