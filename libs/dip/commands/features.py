"""`dip features [--date D | --from D1 --to D2]`, `dip features history`, `dip push-online`, `dip online get`."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from dip.commands.common import EnvOption, config_or_exit, console, err_console, session

features_app = typer.Typer(
    help="Nightly feature tables from silver (one day or a resumable backfill), offline retrieval.",
    invoke_without_command=True,
)
online_app = typer.Typer(help="The Redis online feature store.", no_args_is_help=True)


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        err_console.print(f"[red]{option}:[/red] expected YYYY-MM-DD, got {value!r}")
        raise typer.Exit(2) from None


@features_app.callback()
def features_cmd(
    ctx: typer.Context,
    day: str | None = typer.Option(None, "--date", help="One UTC day (YYYY-MM-DD)."),
    start: str | None = typer.Option(None, "--from", help="First day of a backfill (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--to", help="Last day of a backfill, inclusive."),
    force: bool = typer.Option(False, "--force", help="Recompute days already completed."),
    env: EnvOption = None,
) -> None:
    """Compute the feature tables day by day; completed days are skipped so a backfill resumes."""
    if ctx.invoked_subcommand is not None:
        return
    if bool(day) == bool(start or end) or bool(start) != bool(end):
        err_console.print("[red]features:[/red] give --date D, or --from D1 --to D2")
        raise typer.Exit(2)
    first = parse_day(day or start, "--date" if day else "--from")  # type: ignore[arg-type]
    last = first if day else parse_day(end, "--to")  # type: ignore[arg-type]
    from dip.features.batch import run_features
    from dip.features.summary_lines import day_line, run_lines
    from dip.job_runner import run_job
    from dip.job_specs import BATCH_FEATURES
    from dip.tables import FEATURE_TABLES

    config = config_or_exit(env)
    console.print(f"features {first}..{last} ({config.features.table_format}, v{config.features.feature_set_version})")
    try:
        with run_job(BATCH_FEATURES, config, lambda: session(config, "dip-features"), echo=console.print) as run:
            run.params.update({"from": first.isoformat(), "to": last.isoformat(), "force": str(force).lower()})
            summary = run_features(
                run.spark, config, first, last, force=force, on_day=lambda r: console.print(day_line(r), markup=False)
            )
            run.counts.update({name: summary.rows(name) for name in FEATURE_TABLES})
    except ValueError as exc:
        err_console.print(f"[red]features:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print("\n".join(run_lines(summary)), markup=False)


@features_app.command("history")
def history_cmd(
    entities: str = typer.Option(..., "--entities", help="CSV with a header: entity_id, ts (ISO timestamp, UTC)."),
    views: str = typer.Option("post_features_daily", "--views", help="Comma list of feature tables."),
    ts_col: str = typer.Option("ts", "--ts-col", help="Timestamp column of the CSV."),
    out: str | None = typer.Option(None, "--out", help="Write the result as parquet here instead of printing."),
    env: EnvOption = None,
) -> None:
    """Point-in-time features for each (entity, timestamp) row: the latest window ending at or before it."""
    from pyspark.sql import functions as F

    from dip.features.offline import get_historical_features

    config = config_or_exit(env)
    spark = session(config, "dip-features-history")
    entity_df = spark.read.option("header", "true").csv(entities)
    if ts_col in entity_df.columns:
        entity_df = entity_df.withColumn(ts_col, F.to_timestamp(ts_col))
    try:
        result = get_historical_features(spark, config, entity_df, [v.strip() for v in views.split(",")], ts_col)
    except ValueError as exc:
        err_console.print(f"[red]features history:[/red] {exc}")
        raise typer.Exit(2) from None
    if out:
        result.write.mode("overwrite").parquet(out)
        console.print(f"wrote {out}")
        return
    for row in result.toLocalIterator():
        console.print(json.dumps(row.asDict(), default=str, ensure_ascii=False), markup=False)


def push_online_cmd(
    view: Annotated[list[str] | None, typer.Option("--view", help="Only this view (repeatable); default all.")] = None,
    env: EnvOption = None,
) -> None:
    """Push the latest features of entities changed since the last pushed commit to Redis."""
    from dip.features.push import PushError, push_online
    from dip.features.summary_lines import push_lines
    from dip.job_runner import run_job
    from dip.job_specs import push_online_job
    from dip.observability.online import OnlinePushMetrics

    config = config_or_exit(env)
    job = push_online_job(view)
    try:
        with run_job(job, config, lambda: session(config, "dip-push-online"), echo=console.print) as run:
            pushes = push_online(run.spark, config, view or None, OnlinePushMetrics(run.registry, job.counts))
            run.counts.update({p.view: p.written for p in pushes})
    except PushError as exc:
        err_console.print(f"[red]push-online failed:[/red] {exc}", markup=False, highlight=False)
        raise typer.Exit(1) from None
    console.print("push-online (" + config.features.table_format + ")")
    console.print("\n".join(push_lines(pushes)), markup=False)


@online_app.command("get")
def online_get_cmd(
    view: str = typer.Argument(..., help="A view of online.views."),
    entity_id: str = typer.Argument(..., help="Post or account id."),
    env: EnvOption = None,
) -> None:
    """Print the stored features of one entity (decoded), its version, event time and TTL."""
    import redis

    from dip.online import make_client, read_many, view_specs
    from dip.online.codec import RowError
    from dip.online.store import stored_key

    config = config_or_exit(env)
    specs = view_specs(config.online)
    if view not in specs:
        err_console.print(f"[red]online get:[/red] unknown view {view!r} (configured: {', '.join(specs)})")
        raise typer.Exit(2)
    client = make_client(config.redis)
    try:
        record = read_many(client, specs[view], [entity_id])[0]
        key = stored_key(specs[view], entity_id)
        ttl = client.ttl(key)
    except (RowError, redis.RedisError) as exc:
        err_console.print(f"[red]online get:[/red] {exc}")
        raise typer.Exit(1) from None
    if record is None:
        err_console.print(f"no features stored for {key!r}", markup=False)
        raise typer.Exit(1)
    payload = {
        "key": key if isinstance(key, str) else key.hex(),
        "_v": record.version,
        "_ts": record.event_ts_ms,
        "_fsv": record.feature_set_version,
        "ttl_s": ttl,
        "features": record.features,
    }
    console.print(json.dumps(payload, ensure_ascii=False, indent=2), markup=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.add_typer(features_app, name="features")
    app.add_typer(online_app, name="online")
    app.command("push-online")(push_online_cmd)
