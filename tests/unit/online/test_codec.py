"""The online-store field encoding: exact stored strings, decoding, round trips and contract errors."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pytest

from dip.online import (
    OnlineRecord,
    RowError,
    ViewSpec,
    decode_hash,
    decode_value,
    encode_row,
    encode_value,
    is_valid_entity_id,
    online_key,
)

VIEW = ViewSpec(
    name="post_features_daily",
    entity="post",
    features={"views": "int", "ratio": "float", "caption": "str", "arabic": "bool", "vec": "vector"},
    ttl_seconds=3600,
)


@pytest.mark.parametrize(
    ("kind", "value", "stored"),
    [
        ("int", -3, "-3"),
        ("int", 0, "0"),
        ("int", np.int64(7), "7"),
        ("int", 2**63, "9223372036854775808"),
        ("float", 0.1, "0.1"),
        ("float", 1e-05, "1e-05"),
        ("float", 1e16, "1e+16"),
        ("float", -0.0, "-0.0"),
        ("float", 2, "2.0"),
        ("float", np.float32(0.5), "0.5"),
        ("bool", True, "1"),
        ("bool", False, "0"),
        ("bool", np.bool_(True), "1"),
        ("str", "عباية سوداء ✨", "عباية سوداء ✨"),
        ("str", "", ""),
        ("vector", [1.0, -2.0], "AACAPwAAAMA="),
        ("vector", np.array([1.0, -2.0]), "AACAPwAAAMA="),
        ("vector", (0.0,), "AAAAAA=="),
        ("vector", [], ""),
    ],
)
def test_encode_value_exact(kind: str, value: object, stored: str) -> None:
    assert encode_value(kind, value) == stored  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value"),
    [
        ("int", None),
        ("float", None),
        ("float", math.nan),
        ("float", math.inf),
        ("float", -math.inf),
        ("vector", [1.0, math.nan]),
        ("vector", [math.inf]),
        ("str", None),
    ],
)
def test_null_and_non_finite_are_absent(kind: str, value: object) -> None:
    assert encode_value(kind, value) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("int", True, TypeError),
        ("int", 3.0, TypeError),
        ("int", "3", TypeError),
        ("float", "0.1", TypeError),
        ("float", False, TypeError),
        ("bool", 1, TypeError),
        ("str", 5, TypeError),
        ("vector", "ab", TypeError),
        ("vector", 1.0, TypeError),
        ("vector", [1e39], ValueError),
    ],
)
def test_encode_value_rejects_wrong_types(kind: str, value: object, error: type[Exception]) -> None:
    with pytest.raises(error):
        encode_value(kind, value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kind", "raw", "value"),
    [
        ("int", b"-3", -3),
        ("int", "42", 42),
        ("float", b"0.1", 0.1),
        ("float", b"1e+16", 1e16),
        ("bool", b"1", True),
        ("bool", b"0", False),
        ("str", "عباية ✨".encode(), "عباية ✨"),
        ("vector", b"AACAPwAAAMA=", [1.0, -2.0]),
        ("vector", b"", []),
        ("vector", b"zczMPQ==", [0.10000000149011612]),  # float32 nearest to 0.1
    ],
)
def test_decode_value_exact(kind: str, raw: bytes | str, value: object) -> None:
    assert decode_value(kind, raw) == value  # type: ignore[arg-type]


@pytest.mark.parametrize(("kind", "raw"), [("bool", b"2"), ("vector", b"AAA="), ("vector", b"!!"), ("int", b"1.5")])
def test_decode_value_rejects_corrupt_fields(kind: str, raw: bytes) -> None:
    with pytest.raises(ValueError):
        decode_value(kind, raw)  # type: ignore[arg-type]


def test_encode_row_exact_key_version_and_fields() -> None:
    row = {
        "entity_id": "ig:1789_x.y-z",
        "_v": 20250101123045123,
        "_ts": 1735734645123,
        "_fsv": 3,
        "views": 120,
        "ratio": math.nan,
        "caption": "عباية",
        "arabic": True,
        "vec": [1.0, -2.0],
    }
    key, version, pairs = encode_row(VIEW, row)
    assert key == "dip:post_features_daily:ig:1789_x.y-z"
    assert version == "20250101123045123"
    assert pairs == [
        "_v",
        "20250101123045123",
        "_ts",
        "1735734645123",
        "_fsv",
        "3",
        "views",
        "120",
        "caption",
        "عباية",
        "arabic",
        "1",
        "vec",
        "AACAPwAAAMA=",
    ]


def test_round_trip_through_stored_bytes_keeps_values_and_nulls() -> None:
    row = {"entity_id": "p1", "_v": 5, "_ts": 1000, "_fsv": 2, "views": -1, "ratio": 0.30000000000000004}
    row |= {"caption": "✨ new\nline", "arabic": False, "vec": [0.5, 0.25, -8.0]}
    _, _, pairs = encode_row(VIEW, row)
    stored = {pairs[i].encode(): pairs[i + 1].encode("utf-8") for i in range(0, len(pairs), 2)}
    assert decode_hash(VIEW, "p1", stored) == OnlineRecord(
        entity_id="p1",
        version=5,
        event_ts_ms=1000,
        feature_set_version=2,
        features={
            "views": -1,
            "ratio": 0.30000000000000004,
            "caption": "✨ new\nline",
            "arabic": False,
            "vec": [0.5, 0.25, -8.0],
        },
    )
    sparse = {"entity_id": "p2", "_v": 1, "_ts": 2, "_fsv": 3, "ratio": math.inf}
    _, _, pairs = encode_row(VIEW, sparse)
    assert pairs == ["_v", "1", "_ts", "2", "_fsv", "3"]
    stored = dict(zip(pairs[::2], pairs[1::2], strict=True))
    assert decode_hash(VIEW, "p2", stored) == OnlineRecord(
        "p2", 1, 2, 3, {"views": None, "ratio": None, "caption": None, "arabic": None, "vec": None}
    )


def test_decode_hash_empty_is_none_and_unknown_fields_are_ignored() -> None:
    assert decode_hash(VIEW, "p1", {}) is None
    stored = {b"_v": b"1", b"_ts": b"2", b"_fsv": b"3", b"views": b"4", b"dropped_feature": b"x"}
    record = decode_hash(VIEW, "p1", stored)
    assert record is not None and record.features["views"] == 4 and "dropped_feature" not in record.features


def test_decode_hash_without_reserved_fields_is_an_error() -> None:
    with pytest.raises(RowError, match="dip:post_features_daily:p1: stored hash lacks _ts, _fsv"):
        decode_hash(VIEW, "p1", {b"_v": b"1", b"views": b"4"})


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"entity_id": "a b", "_v": 1, "_ts": 1, "_fsv": 1}, "invalid entity id 'a b'"),
        ({"entity_id": "x" * 65, "_v": 1, "_ts": 1, "_fsv": 1}, "invalid entity id"),
        ({"_v": 1, "_ts": 1, "_fsv": 1}, "invalid entity id None"),
        ({"entity_id": "p1", "_ts": 1, "_fsv": 1}, "row 'p1': missing _v"),
        ({"entity_id": "p1", "_v": -1, "_ts": 1, "_fsv": 1}, "row 'p1': _v must be >= 0, got -1"),
        ({"entity_id": "p1", "_v": 1.5, "_ts": 1, "_fsv": 1}, "row 'p1': _v: expected an integer"),
        (
            {"entity_id": "p1", "_v": 1, "_ts": 1, "_fsv": 1, "likes": 3},
            "unknown fields for view post_features_daily: likes",
        ),
        (
            {"entity_id": "p1", "_v": 1, "_ts": 1, "_fsv": 1, "views": "7"},
            "row 'p1': feature views \\(int\\): expected an integer",
        ),
    ],
)
def test_encode_row_contract_errors(row: dict[str, object], message: str) -> None:
    with pytest.raises(RowError, match=message):
        encode_row(VIEW, row)


@pytest.mark.parametrize(
    ("entity_id", "valid"),
    [
        ("p1", True),
        ("17841400000000101", True),
        ("_000LinaAbayasOpenId", True),
        ("ig:post.1-2_3", True),
        ("x" * 64, True),
        ("x" * 65, False),
        ("", False),
        ("a b", False),
        ("p1\n", False),
        ("a*", False),
        ("{tag}", False),
        ("ü", False),
        (17, False),
    ],
)
def test_entity_id_validation(entity_id: object, valid: bool) -> None:
    assert is_valid_entity_id(entity_id) is valid


def test_online_key_refuses_injection() -> None:
    assert online_key("v", "p1") == "dip:v:p1"
    with pytest.raises(RowError):
        online_key("v", "p1\r\nFLUSHALL")


def test_view_spec_pickles_for_spark_executors() -> None:
    clone = pickle.loads(pickle.dumps(VIEW))
    assert clone == VIEW
    assert decode_hash(clone, "p1", {b"_v": b"1", b"_ts": b"2", b"_fsv": b"3", b"views": b"4"}) == OnlineRecord(
        "p1", 1, 2, 3, {"views": 4, "ratio": None, "caption": None, "arabic": None, "vec": None}
    )


def test_decode_hash_accepts_str_keys_from_decoding_clients() -> None:
    stored = {"_v": "1", "_ts": "2", "_fsv": "3", "caption": "عباية", "vec": "AACAPwAAAMA="}
    assert decode_hash(VIEW, "p1", stored) == OnlineRecord(
        "p1", 1, 2, 3, {"views": None, "ratio": None, "caption": "عباية", "arabic": None, "vec": [1.0, -2.0]}
    )
