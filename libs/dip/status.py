"""`dip status`: freshness of each lake table against its SLA, last run of each job, DLQ and quarantine counts.

Freshness is the newest event time of a table (``dip.catalog.FRESHNESS_COLUMN``) against now; a table
with an SLA in ``status.sla_minutes`` that is missing, empty or older than its SLA is a breach. Job runs
come from the metrics the jobs export (``dip_job_*`` in the Pushgateway or the ``*.prom`` textfiles).
Live views show stream_live's last batch per view from Redis (``dip:_live:<view>``): when it wrote and
its lag from the newest snapshot's API fetch to the Redis write.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from functools import reduce
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.catalog import FRESHNESS_COLUMN
from dip.config import Config
from dip.io.table_access import read_if_exists
from dip.online.live_state import LiveState
from dip.tables import (
    BRONZE_EVENTS,
    DLQ,
    FEATURE_PUSH_STATE,
    FEATURE_RUNS,
    FEATURE_TABLES,
    SILVER_LEDGER,
    SILVER_QUARANTINE,
    SILVER_TABLES,
    Table,
)

# tables whose freshness `dip status` shows, in pipeline order (DLQ/quarantine are shown as counts)
STATUS_TABLES: tuple[Table, ...] = (
    BRONZE_EVENTS,
    *SILVER_TABLES.values(),
    *FEATURE_TABLES.values(),
    FEATURE_RUNS,
    FEATURE_PUSH_STATE,
)
JOB_METRICS = {
    "dip_job_last_run_timestamp_seconds": "last_run",
    "dip_job_last_success_timestamp_seconds": "last_success",
    "dip_job_last_run_success": "succeeded",
    "dip_job_duration_seconds": "duration_s",
}
RECENT = timedelta(hours=24)


@dataclass(frozen=True)
class Freshness:
    """Newest event time of one table and its age against the SLA (None: no SLA configured)."""

    table: str
    column: str
    latest: datetime | None
    age_minutes: float | None
    sla_minutes: int | None

    @property
    def breached(self) -> bool:
        if self.sla_minutes is None:
            return False
        return self.age_minutes is None or self.age_minutes > self.sla_minutes

    @property
    def state(self) -> str:
        if self.breached:
            return "BREACHED" if self.latest is not None else "NO DATA"
        if self.latest is None:
            return "no data"
        return "ok" if self.sla_minutes is not None else "no sla"


@dataclass(frozen=True)
class JobRun:
    """The last run of a job as its exported metrics tell it; ``succeeded`` None when unknown."""

    job: str
    last_run: datetime | None
    last_success: datetime | None
    succeeded: bool | None
    duration_s: float | None
    source: str


@dataclass(frozen=True)
class DeadLetters:
    """Rows of the DLQ (per stage) or of the silver quarantine (per table)."""

    kind: str  # dlq | quarantine
    group: str
    rows: int
    last_24h: int
    newest: datetime | None


@dataclass(frozen=True)
class RejectedBatch:
    """A silver micro-batch of the last 24 h that sent more than ``streaming.max_rejected_share`` to the DLQ."""

    writer: str
    batch_id: int
    rows: int
    dlq: int
    reasons: str  # the distinct DLQ reasons, e.g. "future_event_time, late"
    processed_at: datetime | None

    @property
    def share(self) -> float:
        return self.dlq / self.rows if self.rows else 0.0


@dataclass(frozen=True)
class LiveViewStatus:
    """stream_live's last applied batch of one live view (``state`` None: never written)."""

    view: str
    state: LiveState | None
    now: datetime

    @property
    def age_minutes(self) -> float | None:
        """Minutes since the last batch's writes ended."""
        if self.state is None:
            return None
        return (self.now.timestamp() * 1000 - self.state.written_ms) / 60_000


@dataclass
class StatusReport:
    """Everything `dip status` shows."""

    now: datetime
    freshness: list[Freshness]
    jobs: list[JobRun]
    dead_letters: list[DeadLetters]
    notes: list[str] = field(default_factory=list)
    rejected: list[RejectedBatch] = field(default_factory=list)
    live: list[LiveViewStatus] = field(default_factory=list)

    @property
    def breaches(self) -> list[Freshness]:
        return [f for f in self.freshness if f.breached]


def _epoch(seconds: float | None) -> datetime | None:
    return None if seconds is None else datetime.fromtimestamp(seconds, UTC)


def _from_micros(micros: int | None) -> datetime | None:
    return None if micros is None else _epoch(micros / 1e6)


def _read_delta(spark: SparkSession, table: Table, config: Config) -> DataFrame | None:
    """The table in its format (feature tables may be Hudi), or None before its first write."""
    return read_if_exists(spark, config, table)


def check_sla_tables(config: Config) -> None:
    """Reject SLAs of tables `dip status` does not know (a typo would silently never alert)."""
    known = {t.name for t in STATUS_TABLES}
    unknown = sorted(set(config.status.sla_minutes) - known)
    if unknown:
        raise ValueError(
            f"status.sla_minutes: unknown table(s) {', '.join(unknown)} (known: {', '.join(sorted(known))})"
        )


def table_freshness(spark: SparkSession, config: Config, now: datetime) -> list[Freshness]:
    """Newest event time and age (minutes) of every status table, in one Spark job over the existing ones."""
    check_sla_tables(config)
    newest = []
    for table in STATUS_TABLES:
        df = _read_delta(spark, table, config)
        if df is not None:
            micros = F.max(F.unix_micros(F.col(FRESHNESS_COLUMN[table.name]).cast("timestamp")))
            newest.append(df.agg(F.lit(table.name).alias("table"), micros.alias("micros")))
    found = {r["table"]: r["micros"] for r in reduce(DataFrame.unionAll, newest).collect()} if newest else {}
    result = []
    for table in STATUS_TABLES:
        micros = found.get(table.name)
        latest = _from_micros(micros)
        age = (now - latest).total_seconds() / 60 if latest is not None else None
        sla = config.status.sla_minutes.get(table.name)
        result.append(Freshness(table.name, FRESHNESS_COLUMN[table.name], latest, age, sla))
    return result


def job_runs_from_text(text: str, source: str) -> list[JobRun]:
    """``dip_job_*`` samples of a Prometheus text exposition, one :class:`JobRun` per ``job`` label."""
    values: dict[str, dict[str, float]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            attr = JOB_METRICS.get(sample.name)
            job = sample.labels.get("job")
            if attr is not None and job:
                values.setdefault(job, {})[attr] = sample.value
    return [
        JobRun(
            job,
            _epoch(v.get("last_run")),
            _epoch(v.get("last_success")),
            None if "succeeded" not in v else v["succeeded"] == 1,
            v.get("duration_s"),
            source,
        )
        for job, v in sorted(values.items())
    ]


def job_runs_from_textfiles(folder: Path) -> tuple[list[JobRun], list[str]]:
    """Job runs of every ``<folder>/*.prom``; a file without ``dip_job_*`` counts by its name and mtime."""
    runs: list[JobRun] = []
    notes: list[str] = []
    for path in sorted(folder.glob("*.prom")):
        try:
            found = job_runs_from_text(path.read_text(encoding="utf-8"), str(path))
        except (OSError, ValueError) as exc:
            notes.append(f"{path}: unreadable metrics ({exc})")
            continue
        if not found:
            found = [JobRun(path.stem, _epoch(path.stat().st_mtime), None, None, None, str(path))]
        runs.extend(found)
    if not runs and not notes:
        notes.append(f"no job metrics in {folder} yet (jobs write <job>.prom there when they end)")
    return runs, notes


def job_runs_from_pushgateway(url: str, timeout_s: float = 3.0) -> tuple[list[JobRun], list[str]]:
    """Job runs from the Pushgateway's own ``/metrics`` (every pushed group); unreachable -> a note."""
    import httpx

    target = url.rstrip("/") + "/metrics"
    try:
        response = httpx.get(target, timeout=timeout_s)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        return [], [f"{target}: {type(exc).__name__}: {exc}"]
    return job_runs_from_text(response.text, target), []


def job_runs_from_table(spark: SparkSession, config: Config) -> list[JobRun]:
    """Last run per job from the lineage runs table (``<lake>/_runs``, written by spark-submit jobs), if any."""
    from dip.io.table_access import read_delta_if_exists
    from dip.lineage import SUCCESS, runs_path

    runs = read_delta_if_exists(spark, runs_path(config))
    if runs is None:
        return []
    ended, started = F.unix_micros("ended_at"), F.unix_micros("started_at")
    rows = (
        runs.where(F.col("ended_at").isNotNull())
        .groupBy("job")
        .agg(
            F.max(ended).alias("last_run"),
            F.max(F.when(F.col("status") == SUCCESS, ended)).alias("last_success"),
            F.max_by(F.struct((F.col("status") == SUCCESS).alias("ok"), (ended - started).alias("us")), ended).alias(
                "latest"
            ),
        )
        .orderBy("job")
        .collect()
    )
    return [
        JobRun(
            r["job"],
            _from_micros(r["last_run"]),
            _from_micros(r["last_success"]),
            r["latest"]["ok"],
            r["latest"]["us"] / 1e6 if r["latest"]["us"] is not None else None,
            "runs table",
        )
        for r in rows
    ]


def latest_per_job(runs: Iterable[JobRun]) -> list[JobRun]:
    """One run per job: the most recently ended one, with the newest success any source knows of."""
    by_job: dict[str, list[JobRun]] = {}
    for run in runs:
        by_job.setdefault(run.job, []).append(run)
    merged = []
    for _job, found in sorted(by_job.items()):
        latest = max(found, key=lambda r: r.last_run.timestamp() if r.last_run else float("-inf"))
        successes = [r.last_success for r in found if r.last_success is not None]
        merged.append(replace(latest, last_success=max(successes) if successes else None))
    return merged


def dead_letter_counts(spark: SparkSession, config: Config, now: datetime) -> list[DeadLetters]:
    """DLQ rows per stage (distinct ``dlq_id``) and quarantined rows per table: total, last 24 h, newest."""
    since = int((now - RECENT).timestamp() * 1_000_000)
    result = []
    for kind, table, group, time_col in (
        ("dlq", DLQ, "stage", "failed_at"),
        ("quarantine", SILVER_QUARANTINE, "table_name", "quarantined_at"),
    ):
        df = _read_delta(spark, table, config)
        if df is None:
            continue
        if kind == "dlq":
            df = df.dropDuplicates(["dlq_id"])  # a replayed write may repeat a dead letter
        micros = F.unix_micros(F.col(time_col).cast("timestamp"))
        rows = (
            df.groupBy(group)
            .agg(
                F.count(F.lit(1)).alias("rows"),
                F.count(F.when(micros >= since, True)).alias("recent"),
                F.max(micros).alias("newest"),
            )
            .orderBy(group)
            .collect()
        )
        for r in rows:
            result.append(DeadLetters(kind, r[group], r["rows"], r["recent"], _from_micros(r["newest"])))
    return result


def rejected_batches(spark: SparkSession, config: Config, now: datetime, limit: int = 20) -> list[RejectedBatch]:
    """Silver batches processed in the last 24 h whose DLQ share (late, future-dated, unreadable rows) is over
    ``streaming.max_rejected_share``, newest first; read from the silver ledger (one row per bronze row)."""
    ledger = _read_delta(spark, SILVER_LEDGER, config)
    if ledger is None:
        return []
    since = (now - RECENT).astimezone(UTC).replace(tzinfo=None)
    dead = F.col("outcome") == "dlq"
    rows = (
        ledger.where(F.col("processed_at") >= F.lit(since))
        .groupBy("writer", "batch_id")
        .agg(
            F.count(F.lit(1)).alias("rows"),
            F.count(F.when(dead, True)).alias("dlq"),
            F.max(F.unix_micros("processed_at")).alias("at"),
            F.array_sort(F.collect_set(F.when(dead, F.col("reason")))).alias("reasons"),
        )
        .where(F.col("dlq") > F.col("rows") * F.lit(config.streaming.max_rejected_share))
        .orderBy(F.desc("at"))
        .limit(limit)
    )
    return [
        RejectedBatch(r["writer"], r["batch_id"], r["rows"], r["dlq"], ", ".join(r["reasons"]), _from_micros(r["at"]))
        for r in rows.collect()
    ]


def build_status(spark: SparkSession, config: Config, now: datetime | None = None) -> StatusReport:
    """The whole `dip status` report at ``now`` (default: the current UTC time)."""
    now = now or datetime.now(UTC)
    if config.metrics.pushgateway_url:
        jobs, notes = job_runs_from_pushgateway(config.metrics.pushgateway_url)
    else:
        jobs, notes = job_runs_from_textfiles(Path(config.metrics.textfile_dir))
    jobs = latest_per_job([*jobs, *job_runs_from_table(spark, config)])
    report = StatusReport(now, table_freshness(spark, config, now), jobs, dead_letter_counts(spark, config, now), notes)
    report.rejected = rejected_batches(spark, config, now)
    report.live, live_notes = live_view_status(config, now)
    report.notes.extend(live_notes)
    return report


def live_view_status(config: Config, now: datetime) -> tuple[list[LiveViewStatus], list[str]]:
    """The live views' last batches from Redis; a note instead when Redis does not answer."""
    import redis

    from dip.io.redis_client import make_client
    from dip.online.live_state import read_live_states

    views = [name for name, view in config.online.views.items() if view.live]
    if not views:
        return [], []
    client = make_client(config.redis)
    try:
        states = read_live_states(client, views)
    except redis.RedisError as exc:
        return [], [f"live views: Redis {config.redis.host}:{config.redis.port} unreachable ({exc})"]
    finally:
        client.close()
    return [LiveViewStatus(view, state, now) for view, state in zip(views, states, strict=True)], []


def format_age(minutes: float | None) -> str:
    """``45m``, ``2h05m``, ``3d04h``; ``-`` when unknown."""
    if minutes is None:
        return "-"
    total = int(minutes)
    if total < 0:
        return f"-{format_age(-minutes)}"
    if total < 60:
        return f"{total}m"
    if total < 24 * 60:
        return f"{total // 60}h{total % 60:02d}m"
    return f"{total // (24 * 60)}d{(total % (24 * 60)) // 60:02d}h"


def summarize(report: StatusReport) -> str:
    """One closing line: breaches first."""
    breached = report.breaches
    dlq = sum(d.rows for d in report.dead_letters if d.kind == "dlq")
    quarantine = sum(d.rows for d in report.dead_letters if d.kind == "quarantine")
    head = f"{len(breached)} SLA breach(es): {', '.join(f.table for f in breached)}" if breached else "all SLAs met"
    line = f"status: {head}; {len(report.jobs)} job(s); DLQ {dlq} rows, quarantine {quarantine} rows"
    if report.rejected:
        line += f"; {len(report.rejected)} silver batch(es) over the DLQ-share threshold in 24 h"
    live = [f"{v.view} {v.state.lag_s:.1f}s" for v in report.live if v.state is not None]
    if live:
        line += f"; live lag {', '.join(live)}"
    return line


def latest_first(runs: Iterable[JobRun]) -> list[JobRun]:
    """Jobs ordered by their last run, most recent first (unknown last)."""
    return sorted(runs, key=lambda r: (r.last_run is None, -(r.last_run.timestamp() if r.last_run else 0), r.job))
