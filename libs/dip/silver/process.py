"""Process one bronze micro-batch into silver: dedup, lateness, parsing, validation, MERGE, accounting.

Every bronze row gets exactly one outcome, recorded in the silver ledger for `dip reconcile`:
``duplicate`` (same content already seen), ``dlq`` (late, unknown schema version or entity,
unparseable payload), ``quarantine`` (a row derived from it failed an expectation) or ``silver``.
Writes are ordered so a replayed batch classifies its rows the same way and changes nothing:
silver MERGEs (idempotent), then quarantine/DLQ/quality/ledger appends (Delta txn ids), and the
seen-keys append last.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce

from pyspark.sql import DataFrame, Window
from pyspark.sql import functions as F

from dip.config import Config
from dip.quality.gx_runner import GxTableValidator
from dip.quality.suites import Suite, split_rows
from dip.silver.merge import SPECS, latest_per_key, merge_into
from dip.silver.normalize import NORMALIZERS
from dip.silver.parse import Registry, content_key, known_version, parse_entity, record_key
from dip.streaming.delta_io import append_idempotent
from dip.streaming.dlq import to_dlq
from dip.streaming.dlq_io import write_dlq
from dip.streaming.runner import NEWEST_EVENT
from dip.tables import QUALITY_RESULTS, SILVER_LEDGER, SILVER_QUARANTINE, SILVER_SEEN, SILVER_TABLES

STAGE = "silver"
QUARANTINE_DDL = (
    "table_name STRING, failed_expectations ARRAY<STRING>, row_json STRING, source STRING, entity STRING, "
    "entity_id STRING, topic STRING, partition INT, offset BIGINT, batch_id BIGINT, quarantined_at TIMESTAMP, "
    "record_key STRING"
)


class QualityGateFailed(RuntimeError):
    """A table-level expectation failed on a table whose policy is ``fail``; the batch is not committed."""


@dataclass
class SilverSettings:
    """Everything the silver step needs besides data: registry, suites, policies, watermark."""

    registry: Registry
    suites: dict[str, Suite]
    policies: dict[str, str]
    watermark_delay_hours: float
    app_id: str
    validator: GxTableValidator = field(default_factory=GxTableValidator)


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


def _read_delta(spark, path: str) -> DataFrame | None:
    from delta.tables import DeltaTable

    return spark.read.format("delta").load(path) if DeltaTable.isDeltaTable(spark, path) else None


def classify(df: DataFrame, seen: DataFrame | None, registry: Registry, delay_hours: float) -> DataFrame:
    """Add ``_outcome`` (null = to parse) and ``_reason`` for duplicates, late rows and unknown versions."""
    first = Window.partitionBy("_content_key").orderBy("topic", "partition", "offset")
    df = df.withColumn("_dup_in_batch", F.row_number().over(first) > 1)
    if seen is not None:
        seen_keys = seen.select(F.col("_content_key").alias("_seen_key")).distinct()
        df = df.join(seen_keys, df["_content_key"] == seen_keys["_seen_key"], "left")
        watermark = seen.agg(F.max("fetched_at")).first()[0]
    else:
        df = df.withColumn("_seen_key", F.lit(None).cast("string"))
        watermark = None
    late_before = (
        F.lit(watermark).cast("timestamp") - F.expr(f"INTERVAL {int(delay_hours * 3600)} SECONDS")
        if watermark is not None
        else F.lit(None).cast("timestamp")
    )
    handled = F.lit(False)
    for source, entity in NORMALIZERS:
        handled = handled | ((F.col("source") == source) & (F.col("entity") == entity))
    outcome = (
        F.when(F.col("_dup_in_batch") | F.col("_seen_key").isNotNull(), F.lit("duplicate"))
        .when(F.col("fetched_at") < late_before, F.lit("dlq"))
        .when(~handled, F.lit("dlq"))
        .when(~known_version(registry), F.lit("dlq"))
    )
    reason = (
        F.when(F.col("_dup_in_batch") | F.col("_seen_key").isNotNull(), F.lit("duplicate"))
        .when(F.col("fetched_at") < late_before, F.lit("late"))
        .when(~handled, F.lit("unknown_entity"))
        .when(~known_version(registry), F.lit("unknown_schema_version"))
    )
    message = (
        F.when(
            reason == "late",
            F.concat(
                F.lit("event time "),
                F.col("fetched_at").cast("string"),
                F.lit(" is before the watermark "),
                late_before.cast("string"),
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
    return df.withColumn("_outcome", outcome).withColumn("_reason", reason).withColumn("_message", message)


def normalise(accepted: DataFrame, registry: Registry) -> tuple[dict[str, DataFrame], DataFrame]:
    """Silver rows per table from the accepted bronze rows, plus rows whose payload did not parse."""
    per_table: dict[str, list[DataFrame]] = {}
    unparsed: list[DataFrame] = []
    for (source, entity), outputs in NORMALIZERS.items():
        if (source, entity) not in registry:
            continue
        parsed = parse_entity(accepted, source, entity, registry)
        unparsed.append(parsed.where(F.col("p").isNull()).drop("p"))
        ok = parsed.where(F.col("p").isNotNull())
        for table, transform in outputs:
            per_table.setdefault(table, []).append(transform(ok))
    frames = {t: reduce(DataFrame.unionByName, dfs) for t, dfs in per_table.items()}
    bad = reduce(DataFrame.unionByName, unparsed) if unparsed else accepted.limit(0)
    return frames, bad


def process_silver_batch(
    batch: DataFrame, batch_id: int, config: Config, settings: SilverSettings, *, rebuild: bool = False
) -> dict[str, int]:
    """Turn one bronze micro-batch into silver rows, quarantine, DLQ, quality results and ledger entries.

    ``rebuild`` (``dip silver rebuild``) re-derives silver from bronze: it ignores and keeps the seen
    keys and the ledger, so the stream's accounting is untouched while MERGE refreshes the rows.
    """
    spark = batch.sparkSession
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    app = settings.app_id
    seen = None if rebuild else _read_delta(spark, SILVER_SEEN.path(config))
    rows = classify(
        batch.transform(record_key).transform(content_key), seen, settings.registry, settings.watermark_delay_hours
    ).persist()
    try:
        accepted = rows.where(F.col("_outcome").isNull())
        frames, unparsed = normalise(accepted, settings.registry)
        unparsed_keys = unparsed.select("_record_key").withColumn("_unparsed", F.lit(True))

        counts: dict[str, int] = {}
        quarantine_parts: list[DataFrame] = []
        cached: list[DataFrame] = []
        quality_rows: list[tuple] = []
        for table, frame in frames.items():
            suite = settings.suites.get(table)
            frame = frame.persist()
            total = frame.count()
            if total == 0:  # nothing for this table in the batch: no validation, no MERGE commit
                frame.unpersist()
                continue
            if suite is not None:
                good, failed = split_rows(frame, suite)
            else:
                good, failed = frame, frame.limit(0).withColumn("_failed", F.array().cast("array<string>"))
            failed = failed.persist()
            if suite is not None:
                quality_rows += _row_level_results(failed, total, suite, table, batch_id, now)
                # table-level checks see what MERGE will write: one combined row per key
                to_merge = latest_per_key(good.drop("_record_key"), SPECS[table])
                table_results = settings.validator.validate(to_merge, suite)
                quality_rows += [
                    (
                        suite.name,
                        table,
                        batch_id,
                        r.expectation,
                        r.success,
                        r.element_count,
                        r.unexpected_count,
                        r.observed_value,
                        now,
                    )
                    for r in table_results
                ]
                broken = [r.expectation for r in table_results if not r.success]
                policy = settings.policies.get(table, "warn")
                if broken and policy == "fail":
                    raise QualityGateFailed(
                        f"{table}: table-level expectations failed in batch {batch_id}: " + ", ".join(broken)
                    )
                if broken and policy == "drop":
                    failed = failed.unionByName(good.withColumn("_failed", F.array(*map(F.lit, broken))))
                    good = good.limit(0)
            merged = (
                {"inserted": 0, "updated": 0}
                if good.isEmpty()
                else merge_into(spark, good.drop("_record_key"), SILVER_TABLES[table].path(config), SPECS[table])
            )
            counts[f"{table}_inserted"] = merged["inserted"]
            counts[f"{table}_updated"] = merged["updated"]
            quarantine_parts.append(_quarantine_rows(failed, table, rows, batch_id, now))
            cached.append(failed)
            frame.unpersist()

        quarantine = reduce(DataFrame.unionByName, quarantine_parts) if quarantine_parts else None
        if quarantine is not None:
            quarantine = quarantine.persist()
            append_idempotent(
                quarantine,
                SILVER_QUARANTINE.path(config),
                f"{app}.quarantine",
                batch_id,
                SILVER_QUARANTINE.partition_by,
            )
        quarantined_keys = (
            quarantine.select(F.col("record_key").alias("_record_key"))
            .distinct()
            .withColumn("_quarantined", F.lit(True))
            if quarantine is not None
            else None
        )
        outcomes = rows.join(unparsed_keys, "_record_key", "left")
        if quarantined_keys is not None:
            outcomes = outcomes.join(quarantined_keys, "_record_key", "left")
        else:
            outcomes = outcomes.withColumn("_quarantined", F.lit(None).cast("boolean"))
        outcomes = (
            outcomes.withColumn(
                "_reason", F.when(F.col("_unparsed"), F.lit("payload_parse_error")).otherwise(F.col("_reason"))
            )
            .withColumn(
                "_message",
                F.when(F.col("_unparsed"), F.lit("payload does not match the registered schema")).otherwise(
                    F.col("_message")
                ),
            )
            .withColumn(
                "_final",
                F.when(F.col("_unparsed"), F.lit("dlq"))
                .when(F.col("_outcome").isNotNull(), F.col("_outcome"))
                .when(F.col("_quarantined"), F.lit("quarantine"))
                .otherwise(F.lit("silver")),
            )
            .persist()
        )

        dead = outcomes.where(F.col("_final") == "dlq")
        dlq = to_dlq(
            dead.withColumn("_envelope", _envelope_json()),
            stage=STAGE,
            error_type=F.col("_reason"),
            error_message=F.col("_message"),
            original=F.col("_envelope"),
            failed_at=F.lit(now),
            source=F.col("source"),
            entity=F.col("entity"),
            entity_id=F.col("entity_id"),
        )
        write_dlq(dlq, config, f"{app}.dlq", batch_id)

        if quality_rows:
            quality = spark.createDataFrame(
                quality_rows,
                "suite STRING, table_name STRING, batch_id BIGINT, expectation STRING, success BOOLEAN, "
                "element_count BIGINT, unexpected_count BIGINT, observed_value STRING, validated_at STRING",
            ).withColumn("validated_at", F.col("validated_at").cast("timestamp"))
            append_idempotent(quality, QUALITY_RESULTS.path(config), f"{app}.quality", batch_id)

        ledger = (
            outcomes.groupBy("source", "entity", "ingest_date", F.col("_final").alias("outcome"))
            .count()
            .select(
                "source",
                "entity",
                "ingest_date",
                "outcome",
                F.col("count").alias("rows"),
                F.lit(batch_id).cast("bigint").alias("batch_id"),
                F.lit(now).cast("timestamp").alias("processed_at"),
            )
        )
        ledger_rows = ledger.collect()
        if not rebuild:
            append_idempotent(
                spark.createDataFrame(ledger_rows, ledger.schema), SILVER_LEDGER.path(config), f"{app}.ledger", batch_id
            )
        for row in ledger_rows:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + row["rows"]
        counts["bronze"] = sum(r["rows"] for r in ledger_rows)
        newest = outcomes.where(F.col("_final") == "silver").agg(F.max("fetched_at")).first()[0]
        if newest is not None:
            counts[NEWEST_EVENT] = newest.replace(tzinfo=UTC).timestamp()

        # DLQ'd rows are not marked seen, so a replay after a fix is processed, not taken as a duplicate
        new_seen = outcomes.where(F.col("_final").isin("silver", "quarantine")).select(
            "_content_key", "fetched_at", F.lit(batch_id).cast("bigint").alias("batch_id")
        )
        if not rebuild:
            append_idempotent(new_seen, SILVER_SEEN.path(config), f"{app}.seen", batch_id)
        outcomes.unpersist()
        if quarantine is not None:
            quarantine.unpersist()
        for df in cached:
            df.unpersist()
        return counts
    finally:
        rows.unpersist()


def _row_level_results(failed: DataFrame, total: int, suite: Suite, table: str, batch_id: int, now: str) -> list[tuple]:
    """Unexpected counts per row-level expectation, aggregated from the (few) failing rows only."""
    names = [e.name for e in suite.row_level]
    counts = {r["e"]: r["count"] for r in failed.select(F.explode("_failed").alias("e")).groupBy("e").count().collect()}
    return [(suite.name, table, batch_id, n, counts.get(n, 0) == 0, total, counts.get(n, 0), None, now) for n in names]


def _quarantine_rows(failed: DataFrame, table: str, rows: DataFrame, batch_id: int, now: str) -> DataFrame:
    """Quarantine rows: the failing silver row as JSON, its failed expectations and its bronze coordinates."""
    payload_cols = [c for c in failed.columns if c not in ("_record_key", "_failed")]
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
