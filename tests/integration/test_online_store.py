"""The online store against the real Redis: exact stored fields, compare-and-set on _v, TTL, batching."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator

import pytest
import redis

from dip.config import Config
from dip.online import (
    OnlineRecord,
    RowError,
    ViewSpec,
    make_async_client,
    make_client,
    read_many,
    read_many_async,
    write_batch,
)

pytestmark = pytest.mark.integration

FEATURES = {"views": "int", "ratio": "float", "caption": "str", "arabic": "bool", "vec": "vector"}


@pytest.fixture()
def client(stack: Config) -> Iterator[redis.Redis]:
    client = make_client(stack.redis)
    yield client
    client.close()


@pytest.fixture()
def view(client: redis.Redis) -> Iterator[ViewSpec]:
    """A view with a unique name; its keys are deleted afterwards."""
    spec = ViewSpec(name=f"test_{uuid.uuid4().hex}", entity="post", features=FEATURES, ttl_seconds=3600)
    yield spec
    keys = list(client.scan_iter(match=f"dip:{spec.name}:*", count=1000))
    if keys:
        client.delete(*keys)


def _row(entity_id: str, version: int, **features: object) -> dict[str, object]:
    return {"entity_id": entity_id, "_v": version, "_ts": 1735734645123, "_fsv": 3, **features}


def test_write_stores_exact_fields_and_reads_back(client: redis.Redis, view: ViewSpec) -> None:
    rows = [
        _row("p1", 10, views=120, ratio=0.1, caption="عباية ✨", arabic=True, vec=[1.0, -2.0]),
        _row("p2", 11, views=0, ratio=float("nan")),
    ]
    assert write_batch(client, rows, view).written == 2
    assert client.hgetall(f"dip:{view.name}:p1") == {
        b"_v": b"10",
        b"_ts": b"1735734645123",
        b"_fsv": b"3",
        b"views": b"120",
        b"ratio": b"0.1",
        b"caption": "عباية ✨".encode(),
        b"arabic": b"1",
        b"vec": b"AACAPwAAAMA=",
    }
    assert client.hgetall(f"dip:{view.name}:p2") == {
        b"_v": b"11",
        b"_ts": b"1735734645123",
        b"_fsv": b"3",
        b"views": b"0",
    }
    assert read_many(client, view, ["p2", "missing", "p1"]) == [
        OnlineRecord(
            "p2", 11, 1735734645123, 3, {"views": 0, "ratio": None, "caption": None, "arabic": None, "vec": None}
        ),
        None,
        OnlineRecord(
            "p1",
            10,
            1735734645123,
            3,
            {"views": 120, "ratio": 0.1, "caption": "عباية ✨", "arabic": True, "vec": [1.0, -2.0]},
        ),
    ]


def test_older_or_equal_version_never_overwrites(client: redis.Redis, view: ViewSpec) -> None:
    key = f"dip:{view.name}:p1"
    first = write_batch(client, [_row("p1", 100, views=5, caption="new")], view)
    assert (first.written, first.skipped_stale) == (1, 0)
    stale = write_batch(client, [_row("p1", 99, views=1), _row("p1", 100, views=2)], view)
    assert (stale.written, stale.skipped_stale) == (0, 2)
    assert client.hget(key, "views") == b"5"
    newer = write_batch(client, [_row("p1", 101, views=7)], view)
    assert (newer.written, newer.skipped_stale) == (1, 0)
    assert client.hgetall(key) == {
        b"_v": b"101",
        b"_ts": b"1735734645123",
        b"_fsv": b"3",
        b"views": b"7",
    }  # caption gone


def test_versions_compare_exactly_beyond_double_precision(client: redis.Redis, view: ViewSpec) -> None:
    # Hudi commit times: 2^53 < 20250101123045123 and its successor round to the same double
    assert float(20250101123045123) == float(20250101123045124)
    write_batch(client, [_row("p1", 20250101123045123, views=1)], view)
    result = write_batch(client, [_row("p1", 20250101123045124, views=2), _row("p1", 9999999999999999, views=3)], view)
    assert (result.written, result.skipped_stale) == (1, 1)
    assert client.hmget(f"dip:{view.name}:p1", "_v", "views") == [b"20250101123045124", b"2"]


def test_ttl_set_on_write_and_refreshed_only_by_applied_writes(client: redis.Redis, view: ViewSpec) -> None:
    key = f"dip:{view.name}:p1"
    write_batch(client, [_row("p1", 1)], view)
    assert 3598 <= client.ttl(key) <= 3600
    client.expire(key, 50)
    write_batch(client, [_row("p1", 1)], view)  # skipped: equal version leaves the TTL alone
    assert 48 <= client.ttl(key) <= 50
    write_batch(client, [_row("p1", 2)], view, ttl_s=7200)
    assert 7198 <= client.ttl(key) <= 7200


def test_batches_of_rows_from_an_iterator(client: redis.Redis, view: ViewSpec) -> None:
    rows = (_row(f"p{i}", i, views=i) for i in range(1203))
    result = write_batch(client, rows, view, batch_size=500)
    assert (result.written, result.skipped_stale) == (1203, 0)
    records = read_many(client, view, [f"p{i}" for i in range(1203)])
    assert [r.features["views"] for r in records if r is not None] == list(range(1203))


def test_bad_row_fails_its_batch_before_sending(client: redis.Redis, view: ViewSpec) -> None:
    rows = [_row("ok1", 1), _row("ok2", 1), _row("bad id", 1)]
    with pytest.raises(RowError, match="invalid entity id 'bad id'"):
        write_batch(client, rows, view, batch_size=2)
    assert client.exists(f"dip:{view.name}:ok1", f"dip:{view.name}:ok2") == 2  # first batch was sent
    rows = [_row("ok3", 1), _row("ok4", 1, views="x")]
    with pytest.raises(RowError, match="feature views"):
        write_batch(client, rows, view, batch_size=10)
    assert client.exists(f"dip:{view.name}:ok3") == 0


def test_redis_down_raises_connection_error_quickly(stack: Config, view: ViewSpec) -> None:
    down = make_client(stack.redis.model_copy(update={"port": 1}))
    started = time.monotonic()
    with pytest.raises(redis.ConnectionError):
        write_batch(down, [_row("p1", 1)], view)
    with pytest.raises(redis.ConnectionError):
        read_many(down, view, ["p1"])
    assert time.monotonic() - started < 2.0


def test_async_reader_matches_sync_reader(stack: Config, client: redis.Redis, view: ViewSpec) -> None:
    write_batch(client, [_row("p1", 3, views=9, vec=[0.5]), _row("p2", 4, caption="✨")], view)

    async def read() -> list[OnlineRecord | None]:
        async_client = make_async_client(stack.redis)
        try:
            return await read_many_async(async_client, view, ["p1", "p404", "p2"])
        finally:
            await async_client.aclose()

    assert (
        asyncio.run(read())
        == read_many(client, view, ["p1", "p404", "p2"])
        == [
            OnlineRecord(
                "p1", 3, 1735734645123, 3, {"views": 9, "ratio": None, "caption": None, "arabic": None, "vec": [0.5]}
            ),
            None,
            OnlineRecord(
                "p2", 4, 1735734645123, 3, {"views": None, "ratio": None, "caption": "✨", "arabic": None, "vec": None}
            ),
        ]
    )
