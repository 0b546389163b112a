"""Property-based fuzzing of the Feast-format codec: any row encodes or is a RowError, any stored bytes decode or
are a RowError, and what is encoded reads back as the same values (floats of a vector as float32)."""

from __future__ import annotations

import math
import struct

from hypothesis import given
from hypothesis import strategies as st

from dip.online.codec import ENTITY_FIELD, RESERVED_FIELDS, RowError, ViewSpec
from dip.online.feast_codec import decode_feast_fields, encode_feast_row, entity_key
from tests.unit.fuzz.test_codec_fuzz import ANY, FINITE32, FUZZ

VIEW = ViewSpec("v", "post", {"n": "int", "x": "float", "s": "str", "b": "bool", "vec": "vector"}, 60, "proj")
FIELDS = st.sampled_from([ENTITY_FIELD, *RESERVED_FIELDS, "n", "x", "s", "b", "vec", "other"])


@FUZZ
@given(st.dictionaries(FIELDS, ANY, max_size=9))
def test_any_row_encodes_or_is_a_row_error(row: dict) -> None:
    try:
        key, version, values = encode_feast_row(VIEW, row)
    except RowError:
        return
    assert key == entity_key("proj", "post", row[ENTITY_FIELD]) and version == str(row["_v"]).encode()
    assert len(values) == 2 + len(VIEW.features)


@FUZZ
@given(st.lists(st.binary(max_size=24) | st.none(), min_size=8, max_size=8))
def test_any_stored_bytes_decode_or_are_a_row_error(raw: list[bytes | None]) -> None:
    try:
        record = decode_feast_fields(VIEW, "p1", raw)
    except RowError as exc:
        assert str(exc).startswith("feast hash of v 'p1' is corrupt: ")
        return
    assert record is None or set(record.features) == set(VIEW.features)


@FUZZ
@given(
    st.integers(min_value=0, max_value=2**70),
    st.integers(min_value=0, max_value=2**63 - 1),
    st.integers(min_value=-(2**63), max_value=2**63 - 1) | st.none(),
    st.floats(allow_nan=True, allow_infinity=True) | st.none(),
    st.text() | st.none(),
    st.booleans() | st.none(),
    st.lists(FINITE32, max_size=8) | st.none(),
)
def test_what_is_encoded_reads_back(
    version: int, ts: int, n: int | None, x: float | None, s: str | None, b: bool | None, vec: list[float] | None
) -> None:
    row = {"entity_id": "p1", "_v": version, "_ts": ts, "_fsv": 1, "n": n, "x": x, "s": s, "b": b, "vec": vec}
    _, encoded_version, values = encode_feast_row(VIEW, row)
    record = decode_feast_fields(VIEW, "p1", [encoded_version, *values])
    assert record is not None and (record.version, record.event_ts_ms, record.feature_set_version) == (version, ts, 1)
    float32 = None if vec is None else list(struct.unpack(f"<{len(vec)}f", struct.pack(f"<{len(vec)}f", *vec)))
    expected_x = x if x is not None and math.isfinite(x) else None
    assert record.features == {"n": n, "x": expected_x, "s": s, "b": b, "vec": float32}
