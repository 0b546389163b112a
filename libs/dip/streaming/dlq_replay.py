"""`dip dlq list` / `dip dlq replay`: inspect dead letters and re-publish them after a fix."""

from __future__ import annotations

import logging

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.io.table_access import read_if_exists
from dip.streaming.dlq import DLQ_COLUMNS, DLQ_DDL, INGEST_STAGE, ingest_dlq_rows
from dip.streaming.dlq_io import read_dlq_topic
from dip.tables import DLQ

log = logging.getLogger(__name__)


def _table_rows(spark: SparkSession, config: Config) -> DataFrame:
    """The DLQ table's rows (bronze and silver dead letters); none before its first write."""
    rows = read_if_exists(spark, config, DLQ)
    return spark.createDataFrame([], DLQ_DDL) if rows is None else rows.select(*DLQ_COLUMNS)


def _ingest_rows(spark: SparkSession, config: Config) -> DataFrame:
    """Ingest's dead letters, read from the DLQ topic (ingest writes no table rows); none, with a warning, when the
    broker cannot be reached."""
    from confluent_kafka import KafkaException

    try:
        records = read_dlq_topic(spark, config)
    except KafkaException as exc:
        log.warning("ingest dead letters not listed: topic %s unreadable: %s", config.kafka.topics.dlq, exc)
        records = None
    return spark.createDataFrame([], DLQ_DDL) if records is None else ingest_dlq_rows(records)


def _select(rows: DataFrame, dlq_id: str | None, stage: str | None) -> DataFrame:
    """One id or one stage of ``rows``, each dead letter once (a replayed write may repeat one), newest first."""
    if dlq_id:
        rows = rows.where(F.col("dlq_id") == dlq_id)
    if stage:
        rows = rows.where(F.col("stage") == stage)
    return rows.dropDuplicates(["dlq_id"]).orderBy(F.col("failed_at").desc())


def dlq_rows(spark: SparkSession, config: Config, *, dlq_id: str | None = None, stage: str | None = None) -> DataFrame:
    """Dead letters of every stage on the one DLQ schema, optionally one id or one stage, newest first: the DLQ
    table's (bronze, silver) and ingest's from the DLQ topic (as long as the topic retains them)."""
    rows = _table_rows(spark, config)
    if stage in (None, INGEST_STAGE):
        rows = rows.unionByName(_ingest_rows(spark, config))
    return _select(rows, dlq_id, stage)


def replay_target(row: dict, config: Config) -> tuple[str, bytes | None]:
    """Where a dead letter goes back to: the raw topic it came from, keyed as the connectors key it."""
    if row["stage"] == "bronze":
        return row["topic"], None
    topic = f"{config.kafka.topics.raw_prefix}{row['source']}"
    key = f"{row['source']}:{row['entity']}:{row['entity_id']}".encode()
    return topic, key


def replay(spark: SparkSession, config: Config, *, dlq_id: str | None = None, stage: str | None = None) -> int:
    """Re-publish the original bytes of the selected dead letters to their raw topic; returns how many."""
    if not dlq_id and not stage:
        raise ValueError("choose what to replay: --id <dlq_id> or --stage <bronze|silver>")
    if stage == INGEST_STAGE:
        raise ValueError(
            "ingest dead letters are API responses, not raw-topic messages: fix the connector, then "
            "`dip replay --source S --date D` republishes that day from the raw zone"
        )
    from dip.io.kafka import make_producer

    producer = make_producer(config)
    errors: list[str] = []
    sent = 0
    # streamed partition by partition: a replay of millions of dead letters never holds them all on the driver
    rows = _select(_table_rows(spark, config), dlq_id, stage)  # ingest's dead letters are not replayed from here
    for row in rows.toLocalIterator(prefetchPartitions=True):
        topic, key = replay_target(row.asDict(), config)
        while True:
            try:
                producer.produce(
                    topic,
                    value=bytes(row["original"]) if row["original"] is not None else None,
                    key=key,
                    headers={"dip-replay-of": row["dlq_id"]},
                    on_delivery=lambda err, _m: errors.append(str(err)) if err else None,
                )
                break
            except BufferError:  # the producer's queue is full: let it deliver, then retry this message
                producer.poll(0.5)
        sent += 1
    producer.flush(60)
    if errors:
        raise RuntimeError(f"{len(errors)} dead letters could not be re-published: {errors[0]}")
    return sent
