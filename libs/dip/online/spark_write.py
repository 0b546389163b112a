"""Write a DataFrame of online rows to Redis from the Spark executors (push-online and stream_live)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
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


_COUNTS = "written long, skipped_stale long"


def _partition_writer(
    redis: RedisConfig, view: ViewSpec, batch_size: int, prepare: RowPrep | None
) -> Callable[[Iterator[Any]], Iterator[Any]]:
    """The function run on each partition (``mapInArrow``): Arrow batches -> plain dicts (no per-row Row
    objects: the conversion is columnar, in C), its own client, CAS writes; yields one row of counts."""

    def write(batches: Iterator[Any]) -> Iterator[Any]:
        import pyarrow as pa

        from dip.online.client import make_client
        from dip.online.store import write_batch

        def dicts() -> Iterator[dict[str, Any]]:
            for batch in batches:
                for row in batch.to_pylist():
                    yield prepare(row) if prepare else row

        client = make_client(redis)
        try:
            result = write_batch(client, dicts(), view, batch_size=batch_size)
        finally:
            client.close()
        yield pa.RecordBatch.from_pydict(
            {"written": [result.written], "skipped_stale": [result.skipped_stale]},
            schema=pa.schema([("written", pa.int64()), ("skipped_stale", pa.int64())]),
        )

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
    try:
        counts = rows.mapInArrow(_partition_writer(redis, view, batch_size, prepare), _COUNTS).collect()
    except Exception as exc:
        cause = redis_cause(exc)
        where = f"{redis.host}:{redis.port}"
        raise OnlineWriteError(f"writing {view.name} to Redis {where} failed: {cause}", cause) from exc
    return WriteResult(sum(c["written"] for c in counts), sum(c["skipped_stale"] for c in counts))
