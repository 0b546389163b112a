"""Feast's Redis online format, written and read without Feast (the contract of ``online.format: feast``).

Feast 0.67's published layout (``docs/specs/online_store_format.md``; reference code:
``feast.infra.online_stores.helpers._redis_key`` / ``_mmh3`` and ``key_encoding_utils.serialize_entity_key``,
the bytes are checked against them in ``tests/unit/online/test_feast_codec.py``):

- key: the entity key serialized with ``entity_key_serialization_version: 3`` (one join key
  ``<entity>_id`` with a string value: ``<I 1``, ``<I STRING``, ``<I len``, join key, ``<I STRING``,
  ``<I len``, id, all UTF-8) followed by the project name. Every view of an entity shares that hash.
- ``_ts:<view>``: a ``google.protobuf.Timestamp`` (seconds, nanos) of the event time.
- a feature's field: the 4 little-endian bytes of the unsigned murmur3 32-bit hash of ``<view>:<feature>``;
  its value a serialized ``feast.types.Value``: ``int`` -> ``int64_val``, ``float`` -> ``double_val``,
  ``bool`` -> ``bool_val``, ``str`` -> ``string_val``, ``vector`` -> ``float_list_val``; null (and NaN/inf,
  as in DIP's own format) is the empty message.
- DIP's own fields beside them, ignored by Feast: ``_dip_v:<view>`` (the write version, compared as in
  DIP's format) and ``_dip_fsv:<view>`` (feature_set_version). A hash written by ``feast materialize``
  lacks them: it reads with version = event time in ms and feature_set_version 0.

Protobuf messages are encoded by hand (a few wire-format rules) so the jobs' environment needs neither
Feast nor its generated classes.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import mmh3

from dip.online.codec import (
    ENTITY_FIELD,
    EVENT_TS_FIELD,
    FSV_FIELD,
    VERSION_FIELD,
    FeatureType,
    FeatureValue,
    OnlineRecord,
    RowError,
    ViewSpec,
    encode_value,
    is_valid_entity_id,
)

SERIALIZATION_VERSION = 3  # Feast 0.67 removed versions < 3
_STRING = 2  # feast.types.ValueType.STRING
_U32 = struct.Struct("<I")
_F64 = struct.Struct("<d")


def join_key(entity: str) -> str:
    """The Feast join key of an entity type (the feature tables' entity column): ``post`` -> ``post_id``."""
    return f"{entity}_id"


def entity_key(project: str, entity: str, entity_id: str) -> bytes:
    """The Redis key of one entity: its serialized Feast ``EntityKey`` (version 3) + the project."""
    if not is_valid_entity_id(entity_id):
        raise RowError(f"invalid entity id {entity_id!r}: need 1-64 characters of [A-Za-z0-9_.:-]")
    name, value = join_key(entity).encode(), entity_id.encode()
    return (
        b"".join(
            (_U32.pack(1), _U32.pack(_STRING), _U32.pack(len(name)), name, _U32.pack(_STRING), _U32.pack(len(value)))
        )
        + value
        + project.encode()
    )


def feature_field(view: str, feature: str) -> bytes:
    """Feast's hash field of a feature: murmur3_32 (unsigned, seed 0) of ``<view>:<feature>``, little-endian."""
    return _U32.pack(mmh3.hash(f"{view}:{feature}", signed=False))


def ts_field(view: str) -> bytes:
    return f"_ts:{view}".encode()


def version_field(view: str) -> bytes:
    return f"_dip_v:{view}".encode()


def fsv_field(view: str) -> bytes:
    return f"_dip_fsv:{view}".encode()


def view_fields(view: ViewSpec) -> list[bytes]:
    """The fields one row writes after its version, in order: ``_ts``, ``_dip_fsv``, then every feature."""
    return [ts_field(view.name), fsv_field(view.name), *(feature_field(view.name, f) for f in view.features)]


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # proto int64: two's complement, ten bytes
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(data):
            raise ValueError("truncated varint")
        byte = data[pos]
        result |= (byte & 0x7F) << shift
        pos += 1
        if byte < 0x80:
            return result, pos
        shift += 7


def _length_delimited(tag: bytes, payload: bytes) -> bytes:
    return tag + _varint(len(payload)) + payload


def timestamp_bytes(epoch_ms: int) -> bytes:
    """A serialized ``google.protobuf.Timestamp`` of ``epoch_ms`` (seconds, and nanos when not 0)."""
    seconds, millis = divmod(epoch_ms, 1000)
    out = b"\x08" + _varint(seconds) if seconds else b""
    return out + (b"\x10" + _varint(millis * 1_000_000) if millis else b"")


def timestamp_ms(raw: bytes) -> int:
    """Epoch milliseconds of a serialized Timestamp (inverse of :func:`timestamp_bytes`; nanos truncated)."""
    seconds = nanos = pos = 0
    while pos < len(raw):
        tag, pos = _read_varint(raw, pos)
        value, pos = _read_varint(raw, pos)
        if tag == 0x08:
            seconds = value - (1 << 64) if value >= 1 << 63 else value
        elif tag == 0x10:
            nanos = value
        else:
            raise ValueError(f"unexpected Timestamp field tag {tag}")
    return seconds * 1000 + nanos // 1_000_000


_INT64 = range(-(2**63), 2**63)


def _value_int(value: Any) -> bytes:
    if type(value) is not int:
        value = int(encode_value("int", value))  # type: ignore[arg-type]  # DIP's checks: an integer, not a bool
    if value not in _INT64:
        raise ValueError(f"{value} is outside Feast's Int64")
    return b"\x20" + _varint(value)


def _value_float(value: Any) -> bytes:
    if type(value) is not float:
        value = float(encode_value("float", value) or "nan")  # DIP's checks: a number
    return b"\x29" + _F64.pack(value) if math.isfinite(value) else b""  # NaN/inf -> null


def _value_bool(value: Any) -> bytes:
    return b"\x38\x01" if encode_value("bool", value) == "1" else b"\x38\x00"


def _value_str(value: Any) -> bytes:
    return _length_delimited(b"\x12", encode_value("str", value).encode())  # type: ignore[union-attr]


def _value_vector(value: Any) -> bytes:
    if isinstance(value, str | bytes) or (not isinstance(value, Sequence) and not hasattr(value, "__array__")):
        raise TypeError(f"expected a sequence of numbers, got {type(value).__name__}")
    numbers = [float(v) for v in value]
    if not all(map(math.isfinite, numbers)):  # as in DIP's format: NaN/inf -> null
        return b""
    try:
        packed = struct.pack(f"<{len(numbers)}f", *numbers)
    except (OverflowError, struct.error):
        raise ValueError("vector element outside the float32 range") from None
    inner = _length_delimited(b"\x0a", packed) if packed else b""
    return _length_delimited(b"\x82\x01", inner)  # float_list_val = 16 (FloatList, packed val = 1)


_VALUE_ENCODERS: dict[str, Callable[[Any], bytes]] = {
    "int": _value_int,
    "float": _value_float,
    "bool": _value_bool,
    "str": _value_str,
    "vector": _value_vector,
}


def value_bytes(kind: FeatureType, value: Any) -> bytes:
    """The serialized ``feast.types.Value`` of one feature (``b""``, the empty message, for null)."""
    return b"" if value is None else _VALUE_ENCODERS[kind](value)


def _packed(payload: bytes, fmt: str, size: int) -> list[float]:
    if not payload:
        return []
    tag, pos = _read_varint(payload, 0)
    length, pos = _read_varint(payload, pos)
    if tag != 0x0A or pos + length != len(payload) or length % size:
        raise ValueError("malformed packed list")
    return list(struct.unpack(f"<{length // size}{fmt}", payload[pos:]))


def decode_value(raw: bytes | None) -> FeatureValue:
    """The Python value of a serialized ``feast.types.Value`` (``None`` for an absent field or null).

    Reads what DIP writes and the scalar/list types Feast writes for the same columns (int32, float)."""
    if not raw:
        return None
    tag, pos = _read_varint(raw, 0)
    if tag in (0x18, 0x20):  # int32_val, int64_val
        value, _ = _read_varint(raw, pos)
        return value - (1 << 64) if value >= 1 << 63 else value
    if tag == 0x29:  # double_val
        return _F64.unpack_from(raw, pos)[0]
    if tag == 0x35:  # float_val
        return struct.unpack_from("<f", raw, pos)[0]
    if tag == 0x38:  # bool_val
        return raw[pos] != 0
    if tag in (0x12, 0x7A, 0x82):  # string_val, double_list_val (15), float_list_val (16)
        length, pos = _read_varint(raw, pos)
        payload = raw[pos : pos + length]
        if tag == 0x12:
            return payload.decode("utf-8")
        return _packed(payload, "f", 4) if tag == 0x82 else _packed(payload, "d", 8)
    if tag == 0x98:  # null_val (19)
        return None
    raise ValueError(f"unsupported feast Value field tag {tag}")


def _reserved(row: Mapping[str, Any], name: str) -> int:
    value = row.get(name)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RowError(f"row {row.get(ENTITY_FIELD)!r}: {name} must be a non-negative integer, got {value!r}")
    return value


def feast_key(view: ViewSpec, entity_id: str) -> bytes:
    """The Redis key of ``entity_id`` in a view stored in Feast's format (``view.feast_project`` set)."""
    if view.feast_project is None:
        raise ValueError(f"view {view.name} is not stored in Feast's format")
    return entity_key(view.feast_project, view.entity, entity_id)


def encode_feast_row(view: ViewSpec, row: Mapping[str, Any]) -> tuple[bytes, bytes, list[bytes]]:
    """``(key, version, values)`` of one row, ``values`` in :func:`view_fields` order; :class:`RowError` if bad."""
    entity_id = row.get(ENTITY_FIELD)
    key = feast_key(view, entity_id)  # type: ignore[arg-type]
    unknown = row.keys() - view._fields
    if unknown:
        raise RowError(f"row {entity_id!r}: unknown fields for view {view.name}: {', '.join(sorted(unknown))}")
    version = str(_reserved(row, VERSION_FIELD)).encode()
    event_ts = _reserved(row, EVENT_TS_FIELD)
    if event_ts not in _INT64:
        raise RowError(f"row {entity_id!r}: {EVENT_TS_FIELD} {event_ts} is outside a protobuf Timestamp")
    values = [timestamp_bytes(event_ts), str(_reserved(row, FSV_FIELD)).encode()]
    for name, kind in view.features.items():
        try:
            values.append(value_bytes(kind, row.get(name)))
        except (TypeError, ValueError, OverflowError, struct.error) as exc:
            raise RowError(f"row {entity_id!r}: feature {name} ({kind}): {exc}") from None
    return key, version, values


def decode_feast_fields(view: ViewSpec, entity_id: str, raw: Sequence[bytes | None]) -> OnlineRecord | None:
    """The record from an ``HMGET`` of ``[_dip_v, *view_fields(view)]`` (``None`` when the view was never written)."""
    version, ts, fsv, *features = raw
    if ts is None:
        return None
    try:
        event_ts_ms = timestamp_ms(ts)
        values = {name: decode_value(value) for name, value in zip(view.features, features, strict=True)}
        return OnlineRecord(
            entity_id=entity_id,
            version=int(version) if version is not None else event_ts_ms,
            event_ts_ms=event_ts_ms,
            feature_set_version=int(fsv) if fsv is not None else 0,
            features=values,
        )
    except (ValueError, IndexError, struct.error) as exc:  # UnicodeDecodeError is a ValueError
        raise RowError(f"feast hash of {view.name} {entity_id!r} is corrupt: {exc}") from None
