"""`dip maintain` (table maintenance, retention, the raw zone's archive) and `dip forget` (deletion on request)."""

from __future__ import annotations

import getpass

import typer

from dip.commands.common import EnvOption, LogicalDateOption, RunIdOption, config_or_exit, console, err_console, session


def _plain(line: str) -> None:
    console.print(line, markup=False, highlight=False)


def maintain_cmd(env: EnvOption = None, run_id: RunIdOption = None, logical_date: LogicalDateOption = None) -> None:
    """OPTIMIZE / VACUUM / checkpoint every Delta table, clean the Hudi tables, apply retention; files before/after."""
    from dip.job_runner import run_job
    from dip.job_specs import MAINTAIN
    from dip.lifecycle.maintain import maintenance_counts, run_maintenance, table_line
    from dip.observability.lifecycle import MaintenanceMetrics

    config = config_or_exit(env)
    lineage = {"parent_run": run_id, "logical_date": logical_date}
    with run_job(MAINTAIN, config, lambda: session(config, "dip-maintain"), echo=console.print, **lineage) as run:
        summary = run_maintenance(
            run.spark,
            config,
            metrics=MaintenanceMetrics(run.registry),
            on_table=lambda t: _plain(table_line(t)),
        )
        run.counts.update(maintenance_counts(summary))
    console.print(f"raw zone: {summary.raw.archived} objects archived, {summary.raw.expired} expired")


def forget_cmd(
    source: str | None = typer.Option(None, help="Source of the account (instagram, tiktok)."),
    account: str | None = typer.Option(None, "--account", help="The account id on that platform."),
    purge: bool = typer.Option(False, "--purge", help="VACUUM the touched tables now (no time travel before it)."),
    pending: bool = typer.Option(False, "--pending", help="Carry out queued requests (POST /v1/admin/forget)."),
    requested_by: str | None = typer.Option(None, "--requested-by", help="Who asked (audit); default the OS user."),
    env: EnvOption = None,
    run_id: RunIdOption = None,
    logical_date: LogicalDateOption = None,
) -> None:
    """Remove an account's data everywhere (lake tables, raw zone, Redis, ingest state) and stop ingesting it."""
    from dip.connectors.sources import default_registry
    from dip.job_runner import run_job
    from dip.job_specs import FORGET
    from dip.lifecycle.forget import carry_out
    from dip.lifecycle.requests import pending_requests, record_request

    if pending == bool(source or account) or (not pending and not (source and account)):
        err_console.print("[red]forget:[/red] give --source S --account ID, or --pending")
        raise typer.Exit(2)
    config = config_or_exit(env)
    known = default_registry().names()
    if source and source not in known:
        err_console.print(f"[red]forget:[/red] unknown source {source!r} (known: {', '.join(known)})")
        raise typer.Exit(2)
    requests = (
        pending_requests(config)
        if pending
        else [record_request(config, source, account, requested_by or getpass.getuser(), purge)]  # type: ignore[arg-type]
    )
    lineage = {"parent_run": run_id, "logical_date": logical_date}
    with run_job(FORGET, config, lambda: session(config, "dip-forget"), echo=console.print, **lineage) as run:
        run.counts.update(carry_out(run.spark, config, requests, _plain, account_id=account))
    console.print(f"forget: {len(requests)} request(s) carried out")


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.command("maintain")(maintain_cmd)
    app.command("forget")(forget_cmd)
