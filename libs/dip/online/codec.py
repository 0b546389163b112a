"""Pure encoding of feature rows to Redis hash fields and back (the online-store contract).

Key: ``dip:<view>:<entity_id>``, one hash per entity and feature view. Entity ids match
``[A-Za-z0-9_.:-]{1,64}`` (no key injection); view names are lower snake_case.

Fields (all values are strings; redis stores them as UTF-8 bytes):

- ``_v``   version, a non-negative integer in canonical decimal (epoch millis of the feature
  timestamp or a Hudi commit time such as ``20250101123045123``); compared as an integer, so
  17-digit commit times compare exactly (no float rounding).
- ``_ts``  event time the features are as-of, epoch milliseconds, decimal.
- ``_fsv`` feature_set_version, decimal.
- one field per declared feature, by type:
  ``int`` decimal (``-3``); ``float`` shortest round-trip ``repr`` (``0.1``, ``1e-05``, ``1e+16``);
  ``bool`` ``1``/``0``; ``str`` the text itself (any unicode); ``vector`` base64 (standard alphabet,
  padded) of float32 little-endian (``[1.0, -2.0]`` -> ``AACAPwAAAMA=``).
- null is an absent field. NaN and +/-inf (in a float or anywhere in a vector) are written as
  null: JSON cannot carry them and an undefined ratio is "no value".

A row is a plain dict: ``entity_id``, ``_v``, ``_ts``, ``_fsv`` and any of the view's features
(missing features are null; unknown keys are an error). Every applied write replaces the whole hash.
"""

from __future__ import annotations

import base64
import math
import operator
import re
import struct
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

FeatureType = Literal["int", "float", "str", "bool", "vector"]
FeatureValue = int | float | str | bool | list[float] | None

KEY_PREFIX = "dip"
ENTITY_FIELD = "entity_id"
VERSION_FIELD = "_v"
EVENT_TS_FIELD = "_ts"
FSV_FIELD = "_fsv"
RESERVED_FIELDS = (VERSION_FIELD, EVENT_TS_FIELD, FSV_FIELD)
ENTITY_ID_PATTERN = r"^[A-Za-z0-9_.:-]{1,64}$"
_ENTITY_ID_RE = re.compile(ENTITY_ID_PATTERN)


class RowError(ValueError):
    """A row or stored hash does not fit its view's contract."""


@dataclass(frozen=True)
class ViewSpec:
    """A feature view as the store sees it: name, entity type, ordered typed features, TTL.

    ``feast_project`` set: stored in Feast's format under that project (:mod:`dip.online.feast_codec`)."""

    name: str
    entity: str
    features: Mapping[str, FeatureType]
    ttl_seconds: int
    feast_project: str | None = None
    _plan: tuple[tuple[str, bytes, Callable[[bytes | str], FeatureValue]], ...] = field(
        init=False, repr=False, compare=False
    )
    _encoders: tuple[tuple[str, str, Callable[[Any], str | None]], ...] = field(init=False, repr=False, compare=False)
    _fields: frozenset[str] = field(init=False, repr=False, compare=False)  # every key a row may have

    def __post_init__(self) -> None:
        plan = tuple((name, name.encode(), _DECODERS[kind]) for name, kind in self.features.items())
        object.__setattr__(self, "_plan", plan)
        encoders = tuple((name, kind, _ENCODERS[kind]) for name, kind in self.features.items())
        object.__setattr__(self, "_encoders", encoders)
        object.__setattr__(self, "_fields", frozenset((*self.features, *RESERVED_FIELDS, ENTITY_FIELD)))


@dataclass(frozen=True)
class OnlineRecord:
    """One decoded hash: every declared feature (``None`` when absent) plus the reserved fields."""

    entity_id: str
    version: int
    event_ts_ms: int
    feature_set_version: int
    features: dict[str, FeatureValue]


def is_valid_entity_id(entity_id: object) -> bool:
    """True when ``entity_id`` is 1-64 characters of ``[A-Za-z0-9_.:-]``."""
    return isinstance(entity_id, str) and _ENTITY_ID_RE.fullmatch(entity_id) is not None


def online_key(view: str, entity_id: str) -> str:
    """``dip:<view>:<entity_id>``; raises :class:`RowError` for an id that could inject a key."""
    if not is_valid_entity_id(entity_id):
        raise RowError(f"invalid entity id {entity_id!r}: need 1-64 characters of [A-Za-z0-9_.:-]")
    return f"{KEY_PREFIX}:{view}:{entity_id}"


def _encode_int(value: Any) -> str:
    if type(value) is int:  # the common case first (bool is a subclass, not this type)
        return str(value)
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise TypeError(f"expected an integer, got {type(value).__name__} {value!r}")
    return str(operator.index(value))


def _encode_float(value: Any) -> str | None:
    if type(value) is float:
        return repr(value) if math.isfinite(value) else None
    if isinstance(value, bool) or (not isinstance(value, int | float) and not hasattr(value, "__float__")):
        raise TypeError(f"expected a number, got {type(value).__name__} {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{value!r:.40} is outside the float range") from None
    return repr(number) if math.isfinite(number) else None


def _encode_bool(value: Any) -> str:
    if type(value).__name__ not in ("bool", "bool_"):  # bool or numpy.bool_
        raise TypeError(f"expected a bool, got {type(value).__name__} {value!r}")
    return "1" if value else "0"


def _encode_str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a str, got {type(value).__name__} {value!r}")
    return value


def _encode_vector(value: Any) -> str | None:
    if isinstance(value, str | bytes) or (not isinstance(value, Sequence) and not hasattr(value, "__array__")):
        raise TypeError(f"expected a sequence of numbers, got {type(value).__name__}")
    try:
        numbers = [float(v) for v in value]
    except OverflowError:
        raise ValueError("vector element outside the float range") from None
    if not all(math.isfinite(n) for n in numbers):
        return None
    try:
        packed = struct.pack(f"<{len(numbers)}f", *numbers)
    except OverflowError:
        raise ValueError("vector element outside the float32 range") from None
    return base64.b64encode(packed).decode("ascii")


_ENCODERS = {
    "int": _encode_int,
    "float": _encode_float,
    "bool": _encode_bool,
    "str": _encode_str,
    "vector": _encode_vector,
}


def encode_value(kind: FeatureType, value: Any) -> str | None:
    """The stored string of one feature value, or ``None`` for null (the field is then omitted)."""
    return None if value is None else _ENCODERS[kind](value)


def _decode_str(raw: bytes | str) -> str:
    return raw.decode("utf-8") if isinstance(raw, bytes) else raw


def _decode_bool(raw: bytes | str) -> bool:
    text = _decode_str(raw)
    if text not in ("0", "1"):
        raise ValueError(f"bool field must be 0 or 1, got {text!r}")
    return text == "1"


def _decode_vector(raw: bytes | str) -> list[float]:
    packed = base64.b64decode(raw, validate=True)
    if len(packed) % 4:
        raise ValueError(f"vector field has {len(packed)} bytes, not a multiple of 4")
    return list(struct.unpack(f"<{len(packed) // 4}f", packed))


_DECODERS: dict[str, Callable[[bytes | str], FeatureValue]] = {
    "int": int,
    "float": float,
    "str": _decode_str,
    "bool": _decode_bool,
    "vector": _decode_vector,
}


def decode_value(kind: FeatureType, raw: bytes | str) -> FeatureValue:
    """The Python value of one stored field (inverse of :func:`encode_value`)."""
    return _DECODERS[kind](raw)


def _reserved_int(row: Mapping[str, Any], name: str) -> str:
    value = row.get(name)
    if value is None:
        raise RowError(f"row {row.get(ENTITY_FIELD)!r}: missing {name}")
    try:
        text = _encode_int(value)
    except TypeError as exc:
        raise RowError(f"row {row.get(ENTITY_FIELD)!r}: {name}: {exc}") from None
    if text.startswith("-"):
        raise RowError(f"row {row.get(ENTITY_FIELD)!r}: {name} must be >= 0, got {text}")
    return text


def encode_row(view: ViewSpec, row: Mapping[str, Any]) -> tuple[str, str, list[str]]:
    """``(key, version, [field, value, ...])`` for one row; raises :class:`RowError` when it breaks the contract."""
    entity_id = row.get(ENTITY_FIELD)
    key = online_key(view.name, entity_id)  # type: ignore[arg-type]
    unknown = row.keys() - view._fields
    if unknown:
        raise RowError(f"row {entity_id!r}: unknown fields for view {view.name}: {', '.join(sorted(unknown))}")
    version = _reserved_int(row, VERSION_FIELD)
    pairs = [VERSION_FIELD, version]
    pairs += [EVENT_TS_FIELD, _reserved_int(row, EVENT_TS_FIELD), FSV_FIELD, _reserved_int(row, FSV_FIELD)]
    for name, kind, encode in view._encoders:
        value = row.get(name)
        if value is None:
            continue
        try:
            encoded = encode(value)
        except (TypeError, ValueError, OverflowError) as exc:
            raise RowError(f"row {entity_id!r}: feature {name} ({kind}): {exc}") from None
        if encoded is not None:
            pairs += [name, encoded]
    return key, version, pairs


def decode_hash(view: ViewSpec, entity_id: str, fields: Mapping[bytes | str, bytes | str]) -> OnlineRecord | None:
    """The record stored in one hash (``None`` for an empty/missing hash); fields not in the view are ignored."""
    if not fields:
        return None
    as_bytes = isinstance(next(iter(fields)), bytes)
    get = fields.get
    reserved = [get(name.encode() if as_bytes else name) for name in RESERVED_FIELDS]
    if None in reserved:
        missing = [name for name, value in zip(RESERVED_FIELDS, reserved, strict=True) if value is None]
        raise RowError(f"{online_key(view.name, entity_id)}: stored hash lacks {', '.join(missing)}")
    features: dict[str, FeatureValue] = {}
    for name, name_bytes, decode in view._plan:
        raw = get(name_bytes if as_bytes else name)
        try:
            features[name] = None if raw is None else decode(raw)
        except ValueError as exc:  # bad number, bool, UTF-8 or base64: a corrupt record, said as such
            kind = view.features[name]
            raise RowError(f"{online_key(view.name, entity_id)}: field {name} ({kind}) is corrupt: {exc}") from None
    try:
        version, event_ts, fsv = (int(value) for value in reserved)  # type: ignore[arg-type]
    except ValueError as exc:
        raise RowError(f"{online_key(view.name, entity_id)}: a reserved field is corrupt: {exc}") from None
    return OnlineRecord(
        entity_id=entity_id, version=version, event_ts_ms=event_ts, feature_set_version=fsv, features=features
    )
