"""Write a DataFrame of online rows to Redis from the Spark executors (push-online and stream_live)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from pyspark.sql import DataFrame

from dip.config.models import RedisConfig
from dip.online.codec import ViewSpec
from dip.online.store import WriteResult

RowPrep = Callable[[dict[str, Any]], Mapping[str, Any]]


class OnlineWriteError(RuntimeError):
    """Writing to Redis failed on an executor; ``cause`` is the redis (or row contract) error line."""

    def __init__(self, message: str, cause: str) -> None:
        super().__init__(message)
        self.cause = cause


def _partition_writer(
    redis: RedisConfig, view: ViewSpec, batch_size: int, written: Any, skipped: Any, prepare: RowPrep | None
) -> Callable[[Iterable[Any]], None]:
    """The function run on each partition: its own client, CAS writes, counts to accumulators.

    (``mapInArrow`` instead of Row objects was measured: no faster here, since Redis and the encoding dominate,
    and Spark 3.5 fails to plan it over Hudi's columnar reader: ColumnarToRowExec assertion.)"""

    def write(rows: Iterable[Any]) -> None:
        from dip.io.redis_client import make_client
        from dip.online.store import write_batch

        client = make_client(redis)
        dicts = (row.asDict() for row in rows)
        try:
            result = write_batch(client, map(prepare, dicts) if prepare else dicts, view, batch_size=batch_size)
        finally:
            client.close()
        written.add(result.written)
        skipped.add(result.skipped_stale)

    return write


def redis_cause(exc: BaseException) -> str:
    """The redis error line of an executor failure (or the first line of the error)."""
    text = str(exc)
    for line in text.splitlines():
        if "redis.exceptions." in line or "RowError" in line:
            return line.strip()
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def write_online(
    rows: DataFrame, redis: RedisConfig, view: ViewSpec, batch_size: int, prepare: RowPrep | None = None
) -> WriteResult:
    """Write ``rows`` (``entity_id``, ``_v``, ``_ts``, ``_fsv`` and features; ``prepare`` may derive them
    from each row's dict on the executor) with :func:`dip.online.write_batch`; raises :class:`OnlineWriteError`."""
    sc = rows.sparkSession.sparkContext
    written, skipped = sc.accumulator(0), sc.accumulator(0)
    try:
        rows.foreachPartition(_partition_writer(redis, view, batch_size, written, skipped, prepare))
    except Exception as exc:
        cause = redis_cause(exc)
        where = f"{redis.host}:{redis.port}"
        raise OnlineWriteError(f"writing {view.name} to Redis {where} failed: {cause}", cause) from exc
    return WriteResult(written.value, skipped.value)
