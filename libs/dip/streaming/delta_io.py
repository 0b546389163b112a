"""Delta writes that a replayed micro-batch cannot duplicate."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.sql import DataFrame


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
