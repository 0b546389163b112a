"""Process one bronze micro-batch into silver: dedup, event-time checks, parsing, validation, MERGE, outcomes.

Every bronze row gets exactly one outcome, recorded per row in the silver ledger (``silver/_outcomes``)
for `dip reconcile`: ``duplicate`` (same content already accepted), ``dlq`` (late, dated in the
future, unknown schema version or entity, unparseable payload), ``quarantine`` (a row derived from
it failed an expectation) or ``silver``.

The fixed cost per micro-batch is kept small (issue 15):

- **one summary job**: the classified batch is persisted once and a single aggregate over it returns
  outcome counts, parse failures, per-table row counts and every row-level expectation's failure
  count (row-level checks are columns of the projection, not jobs of their own);
- **bounded dedup state**: the ledger is partitioned by event date and only the lateness window is
  looked up (older rows are late whatever they are), so a batch's cost does not grow with history;
- **per-source watermarks** kept on the driver between batches, read from the ledger once when a
  query starts; the lateness cutoff can never move past ``now + max_clock_skew`` because rows dated
  after that go to the DLQ as ``future_event_time`` and never advance it;
- **commits**: one MERGE per silver table the batch touches, one quality-results append and one
  ledger append; quarantine and DLQ writes only when the batch has such rows.

Writes are ordered so a replayed batch classifies its rows the same way and changes nothing: silver
MERGEs (idempotent), quarantine/DLQ/quality appends (Delta txn ids), the ledger append last. The
dedup lookup and the watermarks leave out the ledger rows of the batch being (re)played.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial, reduce
from typing import NamedTuple

from pyspark.sql import DataFrame, Row, SparkSession, Window
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.delta_append import append_idempotent, writer_id
from dip.io.delta_conflicts import retry_conflicts
from dip.io.forgotten import forgotten_filter, forgotten_hashes
from dip.quality.gx_runner import GxTableValidator
from dip.quality.suites import Suite, holds_by_construction, with_failures
from dip.silver.merge import SPECS, latest_per_key, merge_into
from dip.silver.normalize import NORMALIZERS
from dip.silver.parse import Registry, content_key, known_version, parse_entity, record_key
from dip.streaming.dlq import to_dlq
from dip.streaming.dlq_io import write_dlq
from dip.streaming.runner import NEWEST_EVENT
from dip.tables import QUALITY_RESULTS, SILVER_LEDGER, SILVER_QUARANTINE, SILVER_TABLES

STAGE = "silver"
QUARANTINE_DDL = (
    "table_name STRING, failed_expectations ARRAY<STRING>, row_json STRING, source STRING, entity STRING, "
    "entity_id STRING, topic STRING, partition INT, offset BIGINT, batch_id BIGINT, quarantined_at TIMESTAMP, "
    "record_key STRING"
)
LEDGER_DDL = (
    "source STRING, entity STRING, ingest_date DATE, outcome STRING, reason STRING, batch_id BIGINT, writer STRING, "
    "processed_at TIMESTAMP, record_key STRING, content_key STRING, fetched_at TIMESTAMP, event_date DATE, "
    "topic STRING, partition INT, offset BIGINT"
)
QUALITY_DDL = (
    "suite STRING, table_name STRING, batch_id BIGINT, expectation STRING, success BOOLEAN, "
    "element_count BIGINT, unexpected_count BIGINT, observed_value STRING, validated_at STRING"
)
ACCEPTED = ("silver", "quarantine")  # outcomes that mark a content key as seen and advance the watermark
_ROWS, _HARD, _KEYS = "__rows__", "__hard__", "__keys__"  # summary pseudo names: rows, quarantined, keys


class QualityGateFailed(RuntimeError):
    """A table-level expectation failed on a table whose policy is ``fail``; the batch is not committed."""


@dataclass
class Watermarks:
    """Newest accepted event time per source, carried between the micro-batches of one query."""

    writer: str | None = None
    batch_id: int | None = None
    newest: dict[str, datetime] = field(default_factory=dict)


@dataclass
class SilverSettings:
    """Everything the silver step needs besides data: registry, suites, policies, event-time limits."""

    registry: Registry
    suites: dict[str, Suite]
    policies: dict[str, str]
    watermark_delay_hours: float
    app_id: str
    max_clock_skew_minutes: float = 15.0
    write_threads: int = 4
    validator: GxTableValidator = field(default_factory=GxTableValidator)
    watermarks: Watermarks = field(default_factory=Watermarks)


def _envelope_json() -> F.Column:
    """The bronze row as the envelope the connector published (payload re-inserted as raw JSON)."""
    meta = F.to_json(
        F.struct(
            "source",
            "entity",
            "schema_version",
            "account_id",
            "entity_id",
            F.date_format("fetched_at", "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'").alias("fetched_at"),
            "request_id",
            "run_id",
        )
    )
    return F.concat(F.regexp_replace(meta, r"\}$", ""), F.lit(',"payload":'), F.col("payload"), F.lit("}"))


def _read_delta(spark: SparkSession, path: str) -> DataFrame | None:
    from delta.tables import DeltaTable

    return spark.read.format("delta").load(path) if DeltaTable.isDeltaTable(spark, path) else None


def _ts(value: datetime) -> F.Column:
    return F.lit(value.astimezone(UTC).replace(tzinfo=None)).cast("timestamp")


def cutoffs(newest: dict[str, datetime], now: datetime, delay_hours: float, skew_minutes: float) -> dict[str, datetime]:
    """Per source: rows fetched before this are late. The newest event time is capped at ``now + skew``."""
    ceiling = now + timedelta(minutes=skew_minutes)
    return {s: min(t, ceiling) - timedelta(hours=delay_hours) for s, t in newest.items()}


def classify(
    df: DataFrame,
    seen_keys: DataFrame | None,
    late_before: dict[str, datetime],
    future_after: datetime | None,
    registry: Registry,
) -> DataFrame:
    """Add ``_outcome`` (null = to parse), ``_reason`` and ``_message`` before any payload is parsed.

    ``seen_keys`` (column ``_seen_key``) are content keys accepted by earlier batches; ``late_before``
    is the lateness cutoff per source; rows fetched after ``future_after`` are dated in the future.
    Precedence: duplicate, future, late, unknown entity, unknown schema version.
    """
    first = Window.partitionBy("_content_key").orderBy("topic", "partition", "offset")
    df = df.withColumn("_dup_in_batch", F.row_number().over(first) > 1)
    if seen_keys is not None:
        df = df.join(seen_keys, df["_content_key"] == seen_keys["_seen_key"], "left")
    else:
        df = df.withColumn("_seen_key", F.lit(None).cast("string"))
    cutoff = F.lit(None).cast("timestamp")
    for source, at in sorted(late_before.items()):
        cutoff = F.when(F.col("source") == source, _ts(at)).otherwise(cutoff)
    future = F.col("fetched_at") > _ts(future_after) if future_after is not None else F.lit(False)
    late = F.coalesce(F.col("fetched_at") < cutoff, F.lit(False))
    handled = F.lit(False)
    for source, entity in NORMALIZERS:
        handled = handled | ((F.col("source") == source) & (F.col("entity") == entity))
    duplicate = F.col("_dup_in_batch") | F.col("_seen_key").isNotNull()
    reason = (
        F.when(duplicate, F.lit("duplicate"))
        .when(future, F.lit("future_event_time"))
        .when(late, F.lit("late"))
        .when(~handled, F.lit("unknown_entity"))
        .when(~known_version(registry), F.lit("unknown_schema_version"))
    )
    outcome = F.when(reason == "duplicate", F.lit("duplicate")).when(reason.isNotNull(), F.lit("dlq"))
    message = _dlq_message(reason, cutoff, future_after)
    return (
        df.withColumn("_reason", reason)
        .withColumn("_outcome", outcome)
        .withColumn("_message", message)
        .drop("_dup_in_batch", "_seen_key")
    )


def _dlq_message(reason: F.Column, cutoff: F.Column, future_after: datetime | None) -> F.Column:
    """The human-readable ``_message`` of each DLQ ``reason`` (null for the others)."""
    return (
        F.when(
            reason == "future_event_time",
            F.concat(
                F.lit("event time "),
                F.col("fetched_at").cast("string"),
                F.lit(" is after now + max clock skew "),
                _ts(future_after).cast("string") if future_after is not None else F.lit(""),
            ),
        )
        .when(
            reason == "late",
            F.concat(
                F.lit("event time "),
                F.col("fetched_at").cast("string"),
                F.lit(" is before the watermark "),
                cutoff.cast("string"),
            ),
        )
        .when(
            reason == "unknown_entity",
            F.concat(F.lit("no silver mapping for "), F.col("source"), F.lit("/"), F.col("entity")),
        )
        .when(
            reason == "unknown_schema_version",
            F.concat(
                F.lit("schema version "),
                F.col("schema_version").cast("string"),
                F.lit(" of "),
                F.col("source"),
                F.lit("/"),
                F.col("entity"),
                F.lit(" is not in the schema registry"),
            ),
        )
    )


def parse_accepted(accepted: DataFrame, registry: Registry) -> dict[tuple[str, str], DataFrame]:
    """Rows of every registered (source, entity) with a mapping, ``p`` = payload parsed (null = unparseable)."""
    return {
        (source, entity): parse_entity(accepted, source, entity, registry)
        for (source, entity) in NORMALIZERS
        if (source, entity) in registry
    }


def normalise_parsed(parsed: dict[tuple[str, str], DataFrame]) -> dict[str, DataFrame]:
    """Silver rows per table from parsed bronze rows (unparseable ones left out)."""
    per_table: dict[str, list[DataFrame]] = {}
    for key, frame in parsed.items():
        ok = frame.where(F.col("p").isNotNull())
        for table, transform in NORMALIZERS[key]:
            per_table.setdefault(table, []).append(transform(ok))
    return {t: reduce(DataFrame.unionByName, dfs) for t, dfs in per_table.items()}


def normalise(accepted: DataFrame, registry: Registry) -> tuple[dict[str, DataFrame], DataFrame]:
    """Silver rows per table from the accepted bronze rows, plus rows whose payload did not parse."""
    parsed = parse_accepted(accepted, registry)
    unparsed = [p.where(F.col("p").isNull()).drop("p") for p in parsed.values()]
    bad = reduce(DataFrame.unionByName, unparsed) if unparsed else accepted.limit(0)
    return normalise_parsed(parsed), bad


def _with_checks(frame: DataFrame, suite: Suite | None) -> DataFrame:
    if suite is None:
        return frame.withColumn("_failed", F.array().cast("array<string>")).withColumn("_hard", F.lit(False))
    return with_failures(frame, suite)


def _summary(parsed: dict[tuple[str, str], DataFrame], checked: dict[str, DataFrame]) -> list[Row]:
    """One Spark job: parse results, rows and failures per table and expectation."""
    cols = ["kind", "a", "b", "c", "n", "ts"]

    def agg(df: DataFrame, kind: str, a: F.Column, b: F.Column, c: F.Column, ts: F.Column) -> DataFrame:
        return (
            df.groupBy(F.lit(kind).alias("kind"), a.alias("a"), b.alias("b"), c.alias("c"))
            .agg(F.count(F.lit(1)).alias("n"), F.max(ts).alias("ts"))
            .select(*cols)
        )

    null_ts = F.lit(None).cast("timestamp")
    parts = []
    for (source, entity), frame in parsed.items():
        state = F.when(F.col("p").isNull(), F.lit("unparsed")).otherwise(F.lit("parsed"))
        parts.append(agg(frame, "parse", F.lit(source), F.lit(entity), state, F.col("fetched_at")))
    for table, frame in checked.items():
        names = F.concat(
            F.array(F.lit(_ROWS)), F.when(F.col("_hard"), F.array(F.lit(_HARD))).otherwise(F.array()), F.col("_failed")
        )
        exploded = frame.select(F.explode(names).alias("c"))
        parts.append(agg(exploded, "table", F.lit(table), F.lit(""), F.col("c"), null_ts))
        keys = frame.where(~F.col("_hard")).select(*SPECS[table].keys).distinct()  # rows MERGE writes
        parts.append(agg(keys, "keys", F.lit(table), F.lit(""), F.lit(""), null_ts))
    return reduce(DataFrame.unionByName, parts).collect()


def _seen_window(spark: SparkSession, config: Config, late_before: dict[str, datetime], writer: str, batch_id: int):
    """Content keys accepted inside the lateness window by earlier batches (partition-pruned by event date)."""
    ledger = _read_delta(spark, SILVER_LEDGER.path(config))
    if ledger is None or not late_before:
        return None
    in_window = reduce(
        lambda acc, c: acc | c,
        [
            (F.col("source") == s) & (F.col("event_date") >= F.lit(at.date().isoformat()).cast("date"))
            for s, at in late_before.items()
        ],
    )
    return (
        ledger.where(in_window)
        .where(F.col("outcome").isin(*ACCEPTED))
        .where(~((F.col("writer") == writer) & (F.col("batch_id") == batch_id)))
        .select(F.col("content_key").alias("_seen_key"))
        .distinct()
    )


def _watermarks(spark: SparkSession, config: Config, settings: SilverSettings, writer: str, batch_id: int) -> dict:
    """Newest accepted event per source before this batch: carried over, or read from the ledger once."""
    state = settings.watermarks
    if state.writer == writer and state.batch_id == batch_id - 1:
        return dict(state.newest)
    ledger = _read_delta(spark, SILVER_LEDGER.path(config))
    newest: dict[str, datetime] = {}
    if ledger is not None:
        rows = (
            ledger.where(F.col("outcome").isin(*ACCEPTED))
            .where(~((F.col("writer") == writer) & (F.col("batch_id") == batch_id)))
            .groupBy("source")
            .agg(F.max("fetched_at").alias("newest"))
            .collect()
        )
        newest = {r["source"]: r["newest"].replace(tzinfo=UTC) for r in rows if r["newest"] is not None}
    return newest


def process_silver_batch(
    batch: DataFrame, batch_id: int, config: Config, settings: SilverSettings, *, rebuild: bool = False
) -> dict[str, int]:
    """Turn one bronze micro-batch into silver rows, quarantine, DLQ, quality results and ledger rows.

    ``rebuild`` (``dip silver rebuild``) re-derives silver from bronze: no dedup, no lateness, no
    ledger rows, so the stream's accounting is untouched while MERGE refreshes the rows. Rows dated in
    the future are refused in a rebuild too.
    """
    spark = batch.sparkSession
    spark.conf.set("spark.databricks.delta.merge.materializeSource", "none")  # the source is a cached batch
    started = datetime.now(UTC)
    now = started.strftime("%Y-%m-%d %H:%M:%S.%f")
    writer = writer_id(spark, settings.app_id)
    forgotten = forgotten_hashes(config)  # a `dip forget` between bronze's write and this batch: rows dropped here
    if forgotten:
        batch = batch.where(~forgotten_filter(forgotten))
    keyed = batch.transform(record_key).transform(content_key)
    future_after = started + timedelta(minutes=settings.max_clock_skew_minutes)
    if rebuild:
        newest, late_before, seen = {}, {}, None
    else:
        newest = _watermarks(spark, config, settings, writer, batch_id)
        late_before = cutoffs(newest, started, settings.watermark_delay_hours, settings.max_clock_skew_minutes)
        seen = _seen_window(spark, config, late_before, writer, batch_id)
    # materialised once and cut from its lineage: every later plan starts from these rows, not from the
    # bronze scan + dedup join + window (query planning, not Spark jobs, was most of a small batch's time)
    classified = classify(keyed, seen, late_before, future_after, settings.registry).localCheckpoint(eager=True)
    version = batch_id if not rebuild else int(time.time() * 1000)  # rebuilds: increasing txn versions
    run = _Run(spark, batch_id, config, settings, writer, now, rebuild, version)
    try:
        counts = _process(classified, run)
    finally:
        _release(classified)
    if not rebuild:
        for source, ts in counts.pop("_newest_by_source", {}).items():
            newest[source] = max(newest.get(source, ts), ts)
        settings.watermarks = Watermarks(writer, batch_id, newest)
    return counts


def _release(checkpointed: DataFrame) -> None:
    """Drop the blocks of a local checkpoint now instead of when the JVM garbage-collects its RDD."""
    with contextlib.suppress(Exception):
        checkpointed._jdf.queryExecution().analyzed().rdd().unpersist(False)


@dataclass(frozen=True)
class _Run:
    """What every step of one batch run needs: where it writes, as which writer, when, and in which mode."""

    spark: SparkSession
    batch_id: int
    config: Config
    settings: SilverSettings
    writer: str
    now: str
    rebuild: bool
    version: int  # Delta txn version of the appends: the batch id, or an increasing clock in rebuilds


class QualityRow(NamedTuple):
    """One expectation's result for one table in one batch: a row of ``quality_results`` (``QUALITY_DDL``)."""

    suite: str
    table_name: str
    batch_id: int
    expectation: str
    success: bool
    element_count: int
    unexpected_count: int
    observed_value: str | None
    validated_at: str


@dataclass
class _ParsedBatch:
    """The accepted rows parsed and checked (cached), with what the first count and the summary job found."""

    by_reason: dict[str, int]
    parsed: dict[tuple[str, str], DataFrame]
    checked: dict[str, DataFrame]
    unparsed: int
    newest_by_source: dict[str, datetime]
    per_table: dict[str, dict[str, int]]

    @property
    def dead_letters(self) -> dict[str, int]:
        """Rows per DLQ reason found by classification (unparsed payloads not included)."""
        return {k: n for k, n in self.by_reason.items() if k not in ("", "duplicate")}

    def unpersist(self) -> None:
        for frame in [*self.parsed.values(), *self.checked.values()]:
            frame.unpersist()


@dataclass
class _Plan:
    """The batch's commits (run concurrently, in this order) and the rows they will write."""

    writes: dict[str, Callable[[], object]] = field(default_factory=dict)
    quality_rows: list[QualityRow] = field(default_factory=list)
    quarantine_parts: list[DataFrame] = field(default_factory=list)


_INTERNAL = ("_record_key", "_failed", "_hard")  # columns the steps add to a silver row


def _process(classified: DataFrame, run: _Run) -> dict:
    """The steps after classification: parse and count, plan each table, dead letters, outcomes, commit."""
    batch = _parse_and_count(classified, run)
    plan = _Plan()
    for table, frame in batch.checked.items():
        _plan_table(plan, run, table, frame, batch.per_table.get(table, {}), classified)
    quarantine = reduce(DataFrame.unionByName, plan.quarantine_parts).persist() if plan.quarantine_parts else None
    if quarantine is not None:
        path, part = SILVER_QUARANTINE.path(run.config), SILVER_QUARANTINE.partition_by
        plan.writes["_quarantine"] = partial(
            append_idempotent, quarantine, path, f"{run.writer}.quarantine", run.version, part
        )
    final = _final_outcomes(classified, batch.parsed, quarantine, batch.unparsed)
    if batch.dead_letters or batch.unparsed:
        plan.writes["_dlq"] = _dlq_write(final, batch, run)
    if plan.quality_rows:
        plan.writes["_quality"] = _quality_write(plan.quality_rows, run)
    outcome_counts = _outcome_counts(final, batch, quarantine)
    if not run.rebuild:
        ledger = _ledger_rows(final, run.batch_id, run.writer, run.now)
        path, part = SILVER_LEDGER.path(run.config), SILVER_LEDGER.partition_by
        plan.writes["_ledger"] = partial(append_idempotent, ledger, path, f"{run.writer}.ledger", run.batch_id, part)
    try:
        done = run_writes(plan.writes, run.settings.write_threads)
    finally:
        if quarantine is not None:
            quarantine.unpersist()
        final.unpersist()
        batch.unpersist()
    return _batch_counts(batch, done, outcome_counts)


def _parse_and_count(classified: DataFrame, run: _Run) -> _ParsedBatch:
    """Two jobs: rows per classification reason, then the summary that also fills the cached parsed rows."""
    pre = classified.groupBy("source", "entity", F.coalesce("_reason", F.lit("")).alias("reason")).count().collect()
    to_parse = {(r["source"], r["entity"]) for r in pre if r["reason"] == ""}
    accepted = classified.where(F.col("_outcome").isNull())
    # cached, not checkpointed: filled by the summary job (no job of its own), so every payload is parsed
    # once although the summary, the MERGEs and the outcomes all read it
    parsed = {k: f.persist() for k, f in parse_accepted(accepted, run.settings.registry).items() if k in to_parse}
    suites = run.settings.suites
    checked = {t: _with_checks(f, suites.get(t)).persist() for t, f in normalise_parsed(parsed).items()}

    summary = _summary(parsed, checked) if parsed else []
    by_reason: dict[str, int] = {}
    for r in pre:
        by_reason[r["reason"]] = by_reason.get(r["reason"], 0) + r["count"]
    unparsed = sum(r["n"] for r in summary if r["kind"] == "parse" and r["c"] == "unparsed")
    newest_by_source: dict[str, datetime] = {}
    for r in (r for r in summary if r["kind"] == "parse" and r["c"] == "parsed" and r["ts"] is not None):
        ts = r["ts"].replace(tzinfo=UTC)
        newest_by_source[r["a"]] = max(newest_by_source.get(r["a"], ts), ts)
    per_table: dict[str, dict[str, int]] = {}
    for r in (r for r in summary if r["kind"] in ("table", "keys")):
        per_table.setdefault(r["a"], {})[r["c"] if r["kind"] == "table" else _KEYS] = r["n"]
    return _ParsedBatch(by_reason, parsed, checked, unparsed, newest_by_source, per_table)


def _plan_table(
    plan: _Plan, run: _Run, table: str, frame: DataFrame, stats: dict[str, int], classified: DataFrame
) -> None:
    """One table's part of the batch: its quality results, its MERGE and its quarantined rows.

    Table-level expectations that fail stop the batch (policy ``fail``), send the whole table's rows of
    the batch to quarantine (``drop``), or are only recorded (``warn``).
    """
    total, hard = stats.get(_ROWS, 0), stats.get(_HARD, 0)
    if total == 0:  # nothing for this table in the batch: no validation, no MERGE commit
        return
    suite = run.settings.suites.get(table)
    good, failed = frame.where(~F.col("_hard")), frame.where(F.col("_hard"))
    dropped = False
    if suite is not None:
        plan.quality_rows += _row_level_results(stats, total, suite, table, run.batch_id, run.now)
        table_level = _table_level_results(good, stats, suite, table, run)
        plan.quality_rows += table_level
        broken = [r.expectation for r in table_level if not r.success]
        policy = run.settings.policies.get(table, "warn")
        if broken and policy == "fail":
            raise QualityGateFailed(
                f"{table}: table-level expectations failed in batch {run.batch_id}: " + ", ".join(broken)
            )
        if broken and policy == "drop":
            failed = frame.withColumn("_failed", F.array_union("_failed", F.array(*map(F.lit, broken))))
            dropped = True
    if not dropped and total > hard:
        rows = good.drop(*_INTERNAL)
        plan.writes[table] = partial(merge_into, run.spark, rows, SILVER_TABLES[table].path(run.config), SPECS[table])
    if dropped or hard:
        plan.quarantine_parts.append(_quarantine_rows(failed, table, classified, run.batch_id, run.now))


def _table_level_results(
    good: DataFrame, stats: dict[str, int], suite: Suite, table: str, run: _Run
) -> list[QualityRow]:
    """Table-level results: those that hold by construction (unique by merge key), then GX's on what MERGE writes."""
    spec = SPECS[table]
    keys = stats.get(_KEYS, 0)
    rows = [
        QualityRow(suite.name, table, run.batch_id, e.name, True, keys, 0, "unique by merge key", run.now)
        for e in suite.table_level
        if holds_by_construction(e, spec.keys)
    ]
    by_gx = [e for e in suite.table_level if not holds_by_construction(e, spec.keys)]
    if by_gx:  # what a row-level split cannot express: GX runs it on what MERGE will write
        to_merge = latest_per_key(good.drop(*_INTERNAL), spec)
        rows += [
            QualityRow(suite.name, table, run.batch_id, r.expectation, r.success, r.element_count,
                       r.unexpected_count, r.observed_value, run.now)
            for r in run.settings.validator.validate(to_merge, suite, by_gx)
        ]  # fmt: skip
    return rows


def _dlq_write(final: DataFrame, batch: _ParsedBatch, run: _Run) -> Callable[[], object]:
    """The append of the batch's dead letters (classified as such, or with an unparseable payload) to the DLQ."""
    dead = final.where(F.col("_final") == "dlq")
    dlq = to_dlq(
        dead.withColumn("_envelope", _envelope_json()),
        stage=STAGE,
        error_type=F.col("_reason"),
        error_message=F.col("_message"),
        original=F.col("_envelope"),
        failed_at=F.lit(run.now),
        source=F.col("source"),
        entity=F.col("entity"),
        entity_id=F.col("entity_id"),
    )
    expected = sum(batch.dead_letters.values()) + batch.unparsed
    return partial(write_dlq, dlq, run.config, f"{run.writer}.dlq", run.version, expected=expected)


def _quality_write(quality_rows: list[QualityRow], run: _Run) -> Callable[[], object]:
    """The append of the batch's expectation results to ``quality_results``."""
    quality = run.spark.createDataFrame(quality_rows, QUALITY_DDL).withColumn(
        "validated_at", F.col("validated_at").cast("timestamp")
    )
    path = QUALITY_RESULTS.path(run.config)
    return partial(append_idempotent, quality, path, f"{run.writer}.quality", run.version)


def _outcome_counts(final: DataFrame, batch: _ParsedBatch, quarantine: DataFrame | None) -> dict[str, int]:
    """Rows per final outcome. Commonly they follow from the first count; with quarantined or unparsed rows
    ``final`` is cached and counted (two jobs), and ``batch.newest_by_source`` becomes the newest silver
    event per source found in it."""
    if quarantine is None and not batch.unparsed:
        outcome_counts = {"duplicate": batch.by_reason.get("duplicate", 0), "dlq": sum(batch.dead_letters.values())}
        outcome_counts["silver"] = batch.by_reason.get("", 0)
        return outcome_counts
    final.persist()
    outcome_counts = {r["_final"]: r["count"] for r in final.groupBy("_final").count().collect()}
    newest = final.where(F.col("_final") == "silver").groupBy("source").agg(F.max("fetched_at").alias("t"))
    batch.newest_by_source = {r["source"]: r["t"].replace(tzinfo=UTC) for r in newest.collect() if r["t"] is not None}
    return outcome_counts


def _batch_counts(batch: _ParsedBatch, done: dict[str, object], outcome_counts: dict[str, int]) -> dict:
    """The batch's counts: rows inserted/updated per table, rows per outcome, bronze rows, newest event."""
    counts: dict = {}
    for table in batch.checked:
        if table in done:
            counts[f"{table}_inserted"] = done[table]["inserted"]
            counts[f"{table}_updated"] = done[table]["updated"]
    for outcome in ("silver", "quarantine", "dlq", "duplicate"):
        if outcome_counts.get(outcome):
            counts[outcome] = outcome_counts[outcome]
    counts["bronze"] = sum(batch.by_reason.values())
    newest_by_source = batch.newest_by_source
    if newest_by_source and counts.get("silver"):
        counts[NEWEST_EVENT] = max(newest_by_source.values()).timestamp()
    counts["_newest_by_source"] = newest_by_source
    return counts


def run_writes(writes: dict[str, Callable[[], object]], threads: int) -> dict[str, object]:
    """Run independent Delta writes of one batch concurrently; every write is idempotent on replay.

    A Delta commit costs about a second of driver work (planning, log, conflict check) on this kind of
    machine, mostly not Spark tasks, so writes to different tables overlap well. Threads inherit the
    micro-batch's local properties (query id, batch id, job descriptions) via ``inheritable_thread_target``.
    The first error is raised after every write has finished (a replay redoes only what is missing).
    """
    from pyspark import inheritable_thread_target

    # each write is idempotent, so one that lost a Delta conflict (to `dip maintain`'s OPTIMIZE) runs again
    writes = {name: partial(retry_conflicts, write) for name, write in writes.items()}
    if threads <= 1 or len(writes) <= 1:
        return {name: write() for name, write in writes.items()}
    results: dict[str, object] = {}
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="silver-write") as pool:
        futures = {name: pool.submit(inheritable_thread_target(write)) for name, write in writes.items()}
        errors = []
        for name, future in futures.items():
            try:
                results[name] = future.result()
            except Exception as exc:  # keep waiting for the others, then raise the first
                errors.append(exc)
    if errors:
        raise errors[0]
    return results


def _ledger_rows(final: DataFrame, batch_id: int, writer: str, now: str) -> DataFrame:
    """One ledger row per bronze row: its outcome, reason, keys and coordinates."""
    return final.select(
        "source",
        "entity",
        "ingest_date",
        F.col("_final").alias("outcome"),
        F.col("_reason").alias("reason"),
        F.lit(batch_id).cast("bigint").alias("batch_id"),
        F.lit(writer).alias("writer"),
        F.lit(now).cast("timestamp").alias("processed_at"),
        F.col("_record_key").alias("record_key"),
        F.col("_content_key").alias("content_key"),
        "fetched_at",
        F.to_date("fetched_at").alias("event_date"),
        "topic",
        F.col("partition").cast("int").alias("partition"),
        F.col("offset").cast("bigint").alias("offset"),
    )


def _final_outcomes(
    classified: DataFrame, parsed: dict[tuple[str, str], DataFrame], quarantine: DataFrame | None, unparsed: int
) -> DataFrame:
    """``_final`` per bronze row; joins only when the batch has unparsed or quarantined rows."""
    final = classified
    if unparsed:
        keys = reduce(
            DataFrame.unionByName, [p.where(F.col("p").isNull()).select("_record_key") for p in parsed.values()]
        ).withColumn("_unparsed", F.lit(True))
        final = final.join(keys, "_record_key", "left")
        final = final.withColumn(
            "_reason", F.when(F.col("_unparsed"), F.lit("payload_parse_error")).otherwise(F.col("_reason"))
        ).withColumn(
            "_message",
            F.when(F.col("_unparsed"), F.lit("payload does not match the registered schema")).otherwise(
                F.col("_message")
            ),
        )
    else:
        final = final.withColumn("_unparsed", F.lit(None).cast("boolean"))
    if quarantine is not None:
        keys = quarantine.select(F.col("record_key").alias("_record_key")).distinct()
        final = final.join(keys.withColumn("_quarantined", F.lit(True)), "_record_key", "left")
    else:
        final = final.withColumn("_quarantined", F.lit(None).cast("boolean"))
    return final.withColumn(
        "_final",
        F.when(F.col("_unparsed"), F.lit("dlq"))
        .when(F.col("_outcome").isNotNull(), F.col("_outcome"))
        .when(F.col("_quarantined"), F.lit("quarantine"))
        .otherwise(F.lit("silver")),
    )


def _row_level_results(
    stats: dict[str, int], total: int, suite: Suite, table: str, batch_id: int, now: str
) -> list[QualityRow]:
    """One GX-shaped result per row-level expectation from the summary's failure counts."""
    out = []
    for e in suite.row_level:
        unexpected = stats.get(e.name, 0)
        success = unexpected <= total * (1 - e.mostly) if e.mostly < 1 else unexpected == 0
        out.append(QualityRow(suite.name, table, batch_id, e.name, success, total, unexpected, None, now))
    return out


def _quarantine_rows(failed: DataFrame, table: str, rows: DataFrame, batch_id: int, now: str) -> DataFrame:
    """Quarantine rows: the failing silver row as JSON, its failed expectations and its bronze coordinates."""
    payload_cols = [c for c in failed.columns if c not in _INTERNAL]
    coords = rows.select("_record_key", "entity", "entity_id", "topic", "partition", "offset")
    return (
        failed.select("_record_key", "_failed", F.to_json(F.struct(*payload_cols)).alias("row_json"), "source")
        .join(coords, "_record_key", "left")
        .select(
            F.lit(table).alias("table_name"),
            F.col("_failed").alias("failed_expectations"),
            "row_json",
            "source",
            "entity",
            "entity_id",
            "topic",
            F.col("partition").cast("int").alias("partition"),
            F.col("offset").cast("bigint").alias("offset"),
            F.lit(batch_id).cast("bigint").alias("batch_id"),
            F.lit(now).cast("timestamp").alias("quarantined_at"),
            F.col("_record_key").alias("record_key"),
        )
    )
