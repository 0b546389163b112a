"""Property-based fuzzing of the online codec: any row either encodes or is a RowError, any stored hash decodes
or is a RowError, and what is encoded decodes back to the same values."""

from __future__ import annotations

import math
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dip.online.codec import ENTITY_FIELD, RESERVED_FIELDS, RowError, ViewSpec, decode_hash, encode_row

VIEW = ViewSpec("v", "post", {"n": "int", "x": "float", "s": "str", "b": "bool", "vec": "vector"}, ttl_seconds=60)
ANY = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
    | st.binary(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
FIELDS = st.sampled_from([ENTITY_FIELD, *RESERVED_FIELDS, "n", "x", "s", "b", "vec", "other"])
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FUZZ
@given(st.dictionaries(FIELDS, ANY, max_size=9))
def test_any_row_encodes_or_is_a_row_error(row: dict) -> None:
    try:
        key, version, pairs = encode_row(VIEW, row)
    except RowError:
        return
    assert key == f"dip:v:{row[ENTITY_FIELD]}" and version == pairs[1] and len(pairs) % 2 == 0


@FUZZ
@given(
    st.dictionaries(st.sampled_from([*RESERVED_FIELDS, "n", "x", "s", "b", "vec", "zz"]).map(str.encode), st.binary())
)
def test_any_stored_hash_decodes_or_is_a_row_error(fields: dict[bytes, bytes]) -> None:
    try:
        record = decode_hash(VIEW, "p1", fields)
    except RowError as exc:
        assert str(exc).startswith("dip:v:p1: ")
        return
    assert record is None or set(record.features) == set(VIEW.features)


FINITE32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


@FUZZ
@given(
    st.integers(min_value=0, max_value=2**63 - 1),
    st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.none(),
    st.floats(allow_nan=False, allow_infinity=False) | st.none(),
    st.text() | st.none(),
    st.booleans() | st.none(),
    st.lists(FINITE32, max_size=8) | st.none(),
)
def test_what_is_encoded_decodes_to_the_same_values(version, n, x, s, b, vec) -> None:
    row = {ENTITY_FIELD: "p1", "_v": version, "_ts": version, "_fsv": 1, "n": n, "x": x, "s": s, "b": b, "vec": vec}
    _, _, pairs = encode_row(VIEW, row)
    stored = {pairs[i].encode(): pairs[i + 1].encode("utf-8", "surrogatepass") for i in range(0, len(pairs), 2)}
    record = decode_hash(VIEW, "p1", stored)
    assert record is not None and record.version == version
    assert record.features == {"n": n, "x": x, "s": s, "b": b, "vec": vec}


def test_float32_overflow_and_huge_numbers_are_row_errors() -> None:
    base = {ENTITY_FIELD: "p1", "_v": 1, "_ts": 1, "_fsv": 1}
    for bad in ({"x": 10**400}, {"vec": [1e39]}, {"vec": [10**400]}, {"_v": 10**400 * -1}):
        try:
            encode_row(VIEW, base | bad)
        except RowError:
            continue
        raise AssertionError(f"{bad} was encoded")
    assert math.isclose(struct.unpack("<f", struct.pack("<f", 1.5))[0], 1.5)
