"""Versioned, batched writes and pipelined reads of online feature hashes in Redis.

Writes go through one small Lua script doing compare-and-set on ``_v`` for every row of a chunk
(one call per ``batch_size`` rows): a row whose version is lower than or equal to the stored one is
skipped, otherwise the hash is replaced as a whole and its TTL set. A view in Feast's format
(``ViewSpec.feast_project``) is written and read the same way in that layout (:mod:`dip.online.feast_codec`).
Both functions take a client made where they run (a Spark executor, the API process).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import Any

import redis
import redis.asyncio

from dip.online.codec import OnlineRecord, ViewSpec, decode_hash, encode_row, online_key
from dip.online.feast_codec import decode_feast_fields, encode_feast_row, feast_key, version_field, view_fields

# KEYS: the chunk's hash keys. ARGV[1] TTL seconds; ARGV[2] a JSON array with one array of strings
# per key, in order: its version (canonical non-negative decimal), then the field/value items
# (including _v). Versions compare as decimal strings (length, then lexically) so 17-digit Hudi
# commit times and 23-digit live versions stay exact, unlike Lua's double-precision numbers; every
# value travels as a JSON string (never a number), so nothing is rounded. Returns the rows written.
# One call per chunk with one JSON argument instead of a call per row with ~30 arguments: redis-py's
# per-argument packing was half of the write's cost.
CAS_WRITE_LUA = """
local ttl = ARGV[1]
local rows = cjson.decode(ARGV[2])
local written = 0
for i, key in ipairs(KEYS) do
  local row = rows[i]
  local new = row[1]
  local cur = redis.call('HGET', key, '_v')
  if not cur or #cur < #new or (#cur == #new and cur < new) then
    redis.call('DEL', key)
    redis.call('HSET', key, unpack(row, 2))
    redis.call('EXPIRE', key, ttl)
    written = written + 1
  end
end
return written
"""


# The same compare-and-set for a view in Feast's format (docs/online_store.md). Feast keeps every view of an
# entity in one hash, so the row's fields are set (HSET) instead of the hash replaced, and the key's TTL only
# ever grows. Values are protobuf bytes: the rows travel as one binary argument instead of JSON.
# KEYS: the chunk's entity keys. ARGV[1] TTL seconds; ARGV[2] the version field (_dip_v:<view>); ARGV[3] n;
# ARGV[4..3+n] the field names; ARGV[4+n] every row: its version then its n values, each a 4-byte
# little-endian length and the bytes. Returns the rows written.
FEAST_CAS_WRITE_LUA = """
local ttl = tonumber(ARGV[1])
local vfield = ARGV[2]
local n = tonumber(ARGV[3])
local blob = ARGV[4 + n]
local pos = 1
local function take()
  local len = struct.unpack('<I4', blob, pos)
  local s = string.sub(blob, pos + 4, pos + 3 + len)
  pos = pos + 4 + len
  return s
end
local written = 0
for _, key in ipairs(KEYS) do
  local new = take()
  local args = {vfield, new}
  for j = 1, n do
    args[2 * j + 1] = ARGV[3 + j]
    args[2 * j + 2] = take()
  end
  local cur = redis.call('HGET', key, vfield)
  if not cur or #cur < #new or (#cur == #new and cur < new) then
    redis.call('HSET', key, unpack(args))
    if redis.call('TTL', key) < ttl then
      redis.call('EXPIRE', key, ttl)
    end
    written = written + 1
  end
end
return written
"""


@dataclass(frozen=True)
class WriteResult:
    """What one :func:`write_batch` call did."""

    written: int
    skipped_stale: int

    def __add__(self, other: WriteResult) -> WriteResult:
        return WriteResult(self.written + other.written, self.skipped_stale + other.skipped_stale)


def write_batch(
    client: redis.Redis,
    rows: Iterable[Mapping[str, Any]],
    view: ViewSpec,
    ttl_s: int | None = None,
    batch_size: int = 500,
) -> WriteResult:
    """Write plain-dict rows of one view, ``batch_size`` per pipelined round trip; stale versions are skipped.

    ``ttl_s`` defaults to the view's TTL. A row that breaks the contract raises :class:`RowError`
    before its batch is sent (earlier batches stay written; re-running is harmless: equal versions skip).
    """
    ttl = view.ttl_seconds if ttl_s is None else ttl_s
    if ttl <= 0 or batch_size <= 0:
        raise ValueError(f"ttl_s and batch_size must be positive, got {ttl} and {batch_size}")
    if view.feast_project is not None:
        return _write_feast_batch(client, rows, view, ttl, batch_size)
    script = client.register_script(CAS_WRITE_LUA)
    result = WriteResult(0, 0)
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        keys: list[str] = []
        items: list[list[str]] = []
        for row in batch:
            key, version, pairs = encode_row(view, row)
            keys.append(key)
            items.append([version, *pairs])
        written = int(script(keys=keys, args=[ttl, json.dumps(items, ensure_ascii=False, separators=(",", ":"))]))
        result += WriteResult(written, len(batch) - written)
    return result


def _write_feast_batch(
    client: redis.Redis, rows: Iterable[Mapping[str, Any]], view: ViewSpec, ttl: int, batch_size: int
) -> WriteResult:
    """:func:`write_batch` for a view in Feast's format: one ``FEAST_CAS_WRITE_LUA`` call per chunk."""
    script = client.register_script(FEAST_CAS_WRITE_LUA)
    fields = view_fields(view)
    head = [ttl, version_field(view.name), len(fields), *fields]
    pack = struct.Struct("<I").pack
    result = WriteResult(0, 0)
    iterator = iter(rows)
    while batch := list(islice(iterator, batch_size)):
        keys: list[bytes] = []
        parts: list[bytes] = []
        for row in batch:
            key, version, values = encode_feast_row(view, row)
            keys.append(key)
            for value in (version, *values):
                parts += (pack(len(value)), value)
        written = int(script(keys=keys, args=[*head, b"".join(parts)]))
        result += WriteResult(written, len(batch) - written)
    return result


def stored_key(view: ViewSpec, entity_id: str) -> str | bytes:
    """The Redis key holding ``entity_id``'s features of ``view`` in the view's format."""
    return online_key(view.name, entity_id) if view.feast_project is None else feast_key(view, entity_id)


def _queue_reads(pipe: Any, view: ViewSpec, entity_ids: Sequence[str]) -> None:
    """One read per entity on ``pipe``: the whole hash (DIP's format) or the view's fields (Feast's shared hash)."""
    if view.feast_project is None:
        for entity_id in entity_ids:
            pipe.hgetall(online_key(view.name, entity_id))
        return
    fields = [version_field(view.name), *view_fields(view)]
    for entity_id in entity_ids:
        pipe.hmget(feast_key(view, entity_id), fields)


def _decode_reads(view: ViewSpec, entity_ids: Sequence[str], replies: list[Any]) -> list[OnlineRecord | None]:
    decode = decode_hash if view.feast_project is None else decode_feast_fields
    return [decode(view, entity_id, reply) for entity_id, reply in zip(entity_ids, replies, strict=True)]


def read_many(client: redis.Redis, view: ViewSpec, entity_ids: Sequence[str]) -> list[OnlineRecord | None]:
    """Records for ``entity_ids`` in order (``None`` where nothing is stored), in one pipelined round trip."""
    if not entity_ids:
        return []
    pipe = client.pipeline(transaction=False)
    _queue_reads(pipe, view, entity_ids)
    return _decode_reads(view, entity_ids, pipe.execute())


async def read_many_async(
    client: redis.asyncio.Redis, view: ViewSpec, entity_ids: Sequence[str]
) -> list[OnlineRecord | None]:
    """:func:`read_many` for an asyncio client (the serving API): one pipelined round trip."""
    if not entity_ids:
        return []
    async with client.pipeline(transaction=False) as pipe:
        _queue_reads(pipe, view, entity_ids)
        replies = await pipe.execute()
    return _decode_reads(view, entity_ids, replies)
