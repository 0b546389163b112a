"""`dip stream bronze|silver|all|live`, `dip silver rebuild`, `dip dlq list|replay`, `dip reconcile`, `dip tables`."""

from __future__ import annotations

from datetime import date
from functools import partial

import typer
from rich.table import Table

from dip.commands.common import (
    CheckFailed,
    EnvOption,
    LogicalDateOption,
    RunIdOption,
    config_or_exit,
    console,
    err_console,
    run_check,
    session,
    titled_table,
)
from dip.observability.tracing import span

stream_app = typer.Typer(
    help="Structured Streaming jobs (Kafka -> bronze -> silver -> live views in Redis).", no_args_is_help=True
)
silver_app = typer.Typer(help="Silver tables maintenance.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead letters of every stage.", no_args_is_help=True)

TriggerOption = typer.Option(None, "--trigger", help="available-now | processing-time=<interval>; default from config.")


def _summary_table(title: str, summary, keys: list[str] | None = None) -> Table:
    table = Table(title=title)
    keys = keys or summary.keys()
    table.add_column("batch")
    for key in keys:
        table.add_column(key, justify="right")
    table.add_column("time", justify="right")
    for batch in summary.batches:
        table.add_row(str(batch.batch_id), *[str(batch.counts.get(k, 0)) for k in keys], f"{batch.seconds:.1f}s")
    table.add_row("total", *[str(summary.total(k)) for k in keys], f"{summary.seconds:.1f}s", style="bold")
    return table


def _progress(batch, query: str | None = None) -> None:
    counts = ", ".join(f"{k}={v}" for k, v in batch.counts.items())
    prefix = f"{query} " if query else ""
    console.print(f"  {prefix}batch {batch.batch_id}: {counts} ({batch.seconds:.1f}s)")


def _stream(job, parts: list, config, intro: str, queries) -> list:
    """Run streaming ``queries(run, metrics)`` as one run of ``job`` (``parts``: the jobs whose counts it sums)."""
    from dip.job_main import stream_metrics
    from dip.job_runner import run_job
    from dip.job_specs import stream_counts

    metrics = stream_metrics(config, console.print)
    app_name = f"dip-{job.name.replace('_', '-')}"
    with run_job(job, config, lambda: session(config, app_name), metrics=metrics.job, echo=console.print) as run:
        console.print(intro, markup=False)
        with span("dip.stage.stream", **{"dip.job": job.name}):
            summaries = queries(run, metrics)
        run.counts.update(stream_counts(parts, summaries, prefixed=len(parts) > 1))
    return summaries


def _silver_tables(summary) -> Table:
    merged = titled_table("silver tables", ("table", "inserted", "updated"), ("inserted", "updated"))
    for name in ("posts", "post_metrics", "post_captions", "accounts", "account_metrics", "audience"):
        merged.add_row(name, str(summary.total(f"{name}_inserted")), str(summary.total(f"{name}_updated")))
    return merged


@stream_app.command("bronze")
def stream_bronze_cmd(env: EnvOption = None, trigger: str | None = TriggerOption) -> None:
    """Kafka dip.raw.* -> Delta bronze (+ DLQ), exactly once."""
    from dip.job_specs import STREAM_BRONZE
    from dip.streaming.bronze_job import run_stream_bronze

    config = config_or_exit(env)
    (summary,) = _stream(
        STREAM_BRONZE,
        [STREAM_BRONZE],
        config,
        "stream_bronze: reading " + config.kafka.topics.raw_prefix + "*",
        lambda run, m: [run_stream_bronze(run.spark, config, trigger, on_batch=_progress, metrics=m)],
    )
    console.print(_summary_table("stream_bronze", summary))


@stream_app.command("silver")
def stream_silver_cmd(env: EnvOption = None, trigger: str | None = TriggerOption) -> None:
    """Delta bronze -> silver tables with validation, quarantine, DLQ and dedup."""
    from dip.job_specs import STREAM_SILVER
    from dip.silver.stream_job import run_stream_silver

    config = config_or_exit(env)
    (summary,) = _stream(
        STREAM_SILVER,
        [STREAM_SILVER],
        config,
        "stream_silver: reading bronze",
        lambda run, m: [run_stream_silver(run.spark, config, trigger, on_batch=_progress, metrics=m)],
    )
    console.print(_summary_table("stream_silver: bronze rows by outcome", summary, list(STREAM_SILVER.counts)))
    console.print(_silver_tables(summary))


@stream_app.command("all")
def stream_all_cmd(
    env: EnvOption = None,
    trigger: str | None = TriggerOption,
    live: bool = typer.Option(False, "--live", help="Also run stream_live (silver -> live views in Redis)."),
) -> None:
    """stream_bronze and stream_silver (and stream_live with --live) in one Spark application; with
    processing-time=<interval> they run until SIGTERM/Ctrl-C, which stops each after its current micro-batch."""
    from dip.job_specs import STREAM_BRONZE, STREAM_LIVE, STREAM_SILVER, stream_all
    from dip.stream_all import run_stream_all

    config = config_or_exit(env)
    intro = (
        f"stream_all: {config.kafka.topics.raw_prefix}* -> bronze -> silver{' -> live views' if live else ''} "
        f"({trigger or config.streaming.trigger})"
    )
    bronze, silver, *lives = _stream(
        stream_all(live),
        [STREAM_BRONZE, STREAM_SILVER, *([STREAM_LIVE] if live else [])],
        config,
        intro,
        lambda run, m: run_stream_all(
            run.spark, config, trigger, on_batch=lambda q, b: _progress(b, q), metrics=m, live=live
        ),
    )
    console.print(_summary_table("stream_bronze", bronze, list(STREAM_BRONZE.counts)))
    console.print(_summary_table("stream_silver: bronze rows by outcome", silver, list(STREAM_SILVER.counts)))
    for summary in lives:
        console.print(_summary_table(summary.query, summary, list(STREAM_LIVE.counts)))


def live_failure(exc: BaseException) -> str:
    """The one line that says why stream_live stopped (a LiveError's message, else the error's first line)."""
    text = str(exc)
    for line in text.splitlines():
        if "LiveError: " in line:
            return line.split("LiveError: ", 1)[1].strip()
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


@stream_app.command("live")
def stream_live_cmd(env: EnvOption = None, trigger: str | None = TriggerOption) -> None:
    """Silver post_metrics/account_metrics changes -> the live views in Redis (post_live, account_live), one
    query per entity; with processing-time=<interval> they run until SIGTERM/Ctrl-C."""
    from dip.features.live_job import run_stream_live
    from dip.job_specs import STREAM_LIVE

    config = config_or_exit(env)
    chosen = trigger or config.online.live.trigger or config.streaming.trigger
    try:
        summaries = _stream(
            STREAM_LIVE,
            [STREAM_LIVE],
            config,
            f"stream_live: silver changes -> Redis {config.redis.host}:{config.redis.port} ({chosen})",
            lambda run, m: run_stream_live(
                run.spark, config, trigger, on_batch=lambda q, b: _progress(b, q), metrics=m
            ),
        )
    except Exception as exc:  # a LiveError, or a query that failed on one (wrapped by Spark)
        err_console.print(f"[red]stream_live failed:[/red] {live_failure(exc)}", markup=True, highlight=False)
        raise typer.Exit(1) from None
    for summary in summaries:
        console.print(_summary_table(summary.query, summary, list(STREAM_LIVE.counts)))


@silver_app.command("rebuild")
def silver_rebuild_cmd(
    start: str = typer.Option(..., "--from", help="First ingestion date (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last ingestion date (YYYY-MM-DD), inclusive."),
    env: EnvOption = None,
) -> None:
    """Re-derive silver from bronze for a date range (batch, same transforms as the stream)."""
    from dip.silver.stream_job import rebuild_silver

    config = config_or_exit(env)
    counts = rebuild_silver(
        session(config, "dip-silver-rebuild"), config, date.fromisoformat(start), date.fromisoformat(end)
    )
    console.print("silver rebuild " + ", ".join(f"{k}={v}" for k, v in counts.items()))


@dlq_app.command("list")
def dlq_list_cmd(
    env: EnvOption = None,
    stage: str | None = typer.Option(None, help="Only this stage (ingest, bronze, silver)."),
    limit: int = typer.Option(20, help="Rows to show."),
) -> None:
    """Newest dead letters of every stage with their reason (ingest's from the DLQ topic, the others' from the lake)."""
    from dip.streaming.dlq_replay import dlq_rows

    config = config_or_exit(env)
    rows = dlq_rows(session(config, "dip-dlq"), config, stage=stage)
    total = rows.count()
    table = titled_table(
        f"DLQ ({total} rows)",
        (
            "dlq_id",
            "stage",
            "error_type",
            "error_message",
            "source/entity",
            "entity_id",
            "kafka",
            "failed_at",
        ),
    )
    for r in rows.limit(limit).collect():
        table.add_row(
            r["dlq_id"][:12],
            r["stage"],
            r["error_type"],
            r["error_message"],
            f"{r['source']}/{r['entity']}",
            str(r["entity_id"]),
            f"{r['topic']}[{r['partition']}]@{r['offset']}",
            str(r["failed_at"]),
        )
    console.print(table)


@dlq_app.command("replay")
def dlq_replay_cmd(
    env: EnvOption = None,
    dlq_id: str | None = typer.Option(None, "--id", help="One dead letter (full dlq_id)."),
    stage: str | None = typer.Option(None, help="Every dead letter of this stage."),
) -> None:
    """Re-publish dead letters to their raw topic after a fix (e.g. a new schema version)."""
    from dip.streaming.dlq_replay import replay

    config = config_or_exit(env)
    try:
        count = replay(session(config, "dip-dlq-replay"), config, dlq_id=dlq_id, stage=stage)
    except (ValueError, RuntimeError) as exc:
        err_console.print(f"[red]dlq replay:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(f"re-published {count} dead letters")


def reconcile_cmd(
    env: EnvOption = None,
    day: str | None = typer.Option(None, "--date", help="Only this ingestion date (YYYY-MM-DD)."),
    run_id: RunIdOption = None,
    logical_date: LogicalDateOption = None,
) -> None:
    """Kafka = bronze + DLQ and bronze = silver + quarantine + DLQ + duplicates; exit 1 if unbalanced."""
    from dip.job_specs import RECONCILE

    config = config_or_exit(env)
    balance = partial(_reconcile, config=config, day=day)
    run_check(RECONCILE, config, balance, parent_run=run_id, logical_date=logical_date)


def _reconcile(run, config, day: str | None) -> str:
    """The balance table, and the summary line; an unbalanced ledger fails the run (:class:`CheckFailed`)."""
    from dip.reconcile import reconcile

    run.params.update({"date": day} if day else {})
    balances = reconcile(run.spark, config, date.fromisoformat(day) if day else None)
    table = titled_table(
        "dip reconcile" + (f" {day}" if day else ""), ("check", "scope", "expected", "parts", "ok", "pending")
    )
    for b in balances:
        parts = " + ".join(f"{k} {v}" for k, v in b.parts.items())
        ok = "[green]yes" if b.balanced else "[red]NO"
        table.add_row(b.check, b.scope, str(b.expected), f"{parts} = {b.actual}", ok, str(b.pending or ""))
    console.print(table)
    unbalanced = [b for b in balances if not b.balanced]
    pending = sum(b.pending for b in balances)
    run.counts.update({"balanced": len(balances) - len(unbalanced), "unbalanced": len(unbalanced), "pending": pending})
    summary = f"reconcile: {len(balances) - len(unbalanced)} balanced, {len(unbalanced)} unbalanced" + (
        f" ({pending} Kafka messages after bronze's last batch are pending)" if pending else ""
    )
    if unbalanced:
        raise CheckFailed(summary)
    return summary


def tables_cmd(env: EnvOption = None) -> None:
    """Every lake table: format, location, latest version, rows and freshness."""
    from dip.catalog import describe_tables

    config = config_or_exit(env)
    table = titled_table("lake tables", ("table", "format", "version", "rows", "latest event", "location"))
    for info in describe_tables(session(config, "dip-tables"), config):
        table.add_row(
            info.name,
            info.format,
            "-" if info.version is None else str(info.version),
            "-" if info.rows is None else str(info.rows),
            info.latest_event or "-",
            info.location,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.add_typer(stream_app, name="stream")
    app.add_typer(silver_app, name="silver")
    app.add_typer(dlq_app, name="dlq")
    app.command("reconcile")(reconcile_cmd)
    app.command("tables")(tables_cmd)
