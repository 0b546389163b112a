"""Delta writes that a replayed micro-batch cannot duplicate."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame, SparkSession

QUERY_ID_PROPERTY = "sql.streaming.queryId"  # set by Structured Streaming on the thread running a micro-batch


def writer_id(spark: SparkSession, app_id: str) -> str:
    """The Delta ``txnAppId`` prefix of a writer: ``app_id`` plus the streaming query's id when called inside
    a micro-batch. The id lives in the checkpoint, so it survives restarts, and a new checkpoint (a reset)
    gets a new id: its batch ids restart at 0 without being taken for already-committed versions."""
    query_id = spark.sparkContext.getLocalProperty(QUERY_ID_PROPERTY)
    return f"{app_id}.{query_id}" if query_id else app_id


def append_idempotent(df: DataFrame, path: str, app_id: str, batch_id: int, partition_by: Sequence[str] = ()) -> None:
    """Append with ``txnAppId``/``txnVersion``: Delta skips a (app, version) pair it has already committed."""
    writer = (
        df.write.format("delta")
        .mode("append")
        .option("txnAppId", app_id)
        .option("txnVersion", str(batch_id))
        .option("mergeSchema", "false")
    )
    if partition_by:
        writer = writer.partitionBy(*partition_by)
    writer.save(path)
