"""`dip status`: freshness per table against its SLA, last run per job, DLQ and quarantine counts."""

from __future__ import annotations

import typer
from rich.markup import escape
from rich.table import Table

from dip.commands.common import EnvOption, config_or_exit, console, err_console, session, titled_table


def _when(value) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value is not None else "-"


def freshness_table(report) -> Table:
    """Per table: newest event, its age and the SLA."""
    from dip.status import format_age

    table = titled_table(
        f"freshness at {_when(report.now)} UTC", ("table", "newest event (UTC)", "age", "sla", "state")
    )
    colours = {"BREACHED": "red", "NO DATA": "red", "ok": "green"}
    for f in report.freshness:
        colour = colours.get(f.state, "yellow")
        table.add_row(
            f.table,
            _when(f.latest),
            format_age(f.age_minutes),
            format_age(f.sla_minutes) if f.sla_minutes is not None else "-",
            f"[{colour}]{f.state}[/{colour}]",
        )
    return table


def jobs_table(report) -> Table:
    """Per job: when it last ran, whether it succeeded, how long it took."""
    from dip.status import latest_first

    columns = ("job", "last run (UTC)", "result", "duration", "last success (UTC)", "from")
    table = titled_table("last run per job", columns)
    for run in latest_first(report.jobs):
        result = {True: "[green]ok[/green]", False: "[red]FAILED[/red]", None: "-"}[run.succeeded]
        duration = f"{run.duration_s:.1f}s" if run.duration_s is not None else "-"
        table.add_row(run.job, _when(run.last_run), result, duration, _when(run.last_success), escape(run.source))
    return table


def dead_letters_table(report) -> Table:
    """DLQ rows per stage and quarantined rows per silver table."""
    table = titled_table("dead letters", ("kind", "stage / table", "rows", "last 24h", "newest (UTC)"))
    for d in report.dead_letters:
        table.add_row(d.kind, d.group, str(d.rows), str(d.last_24h), _when(d.newest))
    return table


def rejected_table(report) -> Table:
    """Silver batches of the last 24 h over the DLQ-share threshold (``streaming.max_rejected_share``)."""
    table = titled_table(
        "silver batches over the DLQ-share threshold (24 h)",
        ("writer", "batch", "rows", "DLQ", "share", "reasons", "processed"),
        ("batch", "rows", "DLQ", "share"),
    )
    for b in report.rejected:
        table.add_row(
            b.writer, str(b.batch_id), str(b.rows), str(b.dlq), f"{b.share:.0%}", b.reasons, _when(b.processed_at)
        )
    return table


def live_table(report) -> Table:
    """Per live view: stream_live's last batch, its age and its lag (API fetch -> Redis write)."""
    from dip.status import format_age

    columns = ("view", "last write (UTC)", "age", "newest snapshot (UTC)", "lag", "written", "skipped")
    table = titled_table("live views (stream_live)", columns, ("lag", "written", "skipped"))
    for v in report.live:
        if v.state is None:
            table.add_row(v.view, "-", "-", "-", "-", "-", "-")
            continue
        s = v.state
        table.add_row(
            v.view,
            _when(_ms(s.written_ms)),
            format_age(v.age_minutes),
            _when(_ms(s.newest_event_ms)),
            f"{s.lag_s:.1f}s",
            str(s.written),
            str(s.skipped_stale),
        )
    return table


def _ms(value: int):
    from datetime import UTC, datetime

    return datetime.fromtimestamp(value / 1000, UTC)


def status_cmd(env: EnvOption = None) -> None:
    """Freshness of each table against its SLA, last run per job, DLQ/quarantine counts, silver batches over the
    DLQ-share threshold; exit 1 on an SLA breach or such a batch."""
    from dip.status import build_status, check_sla_tables, summarize

    config = config_or_exit(env)
    try:
        check_sla_tables(config)
    except ValueError as exc:
        err_console.print(f"[red]status:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    report = build_status(session(config, "dip-status"), config)
    console.print(freshness_table(report))
    console.print(jobs_table(report))
    console.print(dead_letters_table(report))
    if report.rejected:
        console.print(rejected_table(report))
    if report.live:
        console.print(live_table(report))
    for note in report.notes:
        err_console.print(f"[yellow]note:[/yellow] {escape(note)}")
    console.print(summarize(report), markup=False)
    if report.breaches or report.rejected:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Attach `dip status` to the main ``dip`` app."""
    app.command("status")(status_cmd)
