"""`dip dlq list` / `dip dlq replay`: inspect dead letters and re-publish them after a fix."""

from __future__ import annotations

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.tables import DLQ


def dlq_rows(spark: SparkSession, config: Config, *, dlq_id: str | None = None, stage: str | None = None) -> DataFrame:
    """DLQ table rows, optionally one id or one stage, newest first."""
    from delta.tables import DeltaTable

    path = DLQ.path(config)
    if not DeltaTable.isDeltaTable(spark, path):
        return spark.createDataFrame([], "dlq_id STRING")
    df = spark.read.format("delta").load(path)
    if dlq_id:
        df = df.where(F.col("dlq_id") == dlq_id)
    if stage:
        df = df.where(F.col("stage") == stage)
    return df.dropDuplicates(["dlq_id"]).orderBy(F.col("failed_at").desc())


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
    from dip.io.kafka import make_producer

    producer = make_producer(config)
    errors: list[str] = []
    sent = 0
    # streamed partition by partition: a replay of millions of dead letters never holds them all on the driver
    for row in dlq_rows(spark, config, dlq_id=dlq_id, stage=stage).toLocalIterator(prefetchPartitions=True):
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
