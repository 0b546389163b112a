"""Feast's online format: bytes written out by hand, produced by Feast 0.67's own code.

Each expected hex below was printed in Feast's venv by ``feast.infra.online_stores.helpers._redis_key`` /
``_mmh3``, ``feast.types.Value(...).SerializeToString()`` and ``google.protobuf.Timestamp``.
"""

from __future__ import annotations

import pytest

from dip.online.codec import RowError, ViewSpec
from dip.online.feast_codec import (
    decode_feast_fields,
    decode_value,
    encode_feast_row,
    entity_key,
    feature_field,
    timestamp_bytes,
    timestamp_ms,
    value_bytes,
    view_fields,
)

VIEW = ViewSpec(
    "post_features_daily",
    "post",
    {"views_delta": "int", "ratio": "float", "is_arabic": "bool", "top": "str", "caption_vec": "vector"},
    3600,
    feast_project="dip",
)


def test_entity_key_is_feasts_v3_serialization_plus_project() -> None:
    # _redis_key("dip", EntityKey(join_keys=["post_id"], entity_values=[Value(string_val="p1")]))
    expected = "010000000200000007000000706f73745f696402000000020000007031646970"
    assert entity_key("dip", "post", "p1").hex() == expected


def test_entity_key_refuses_an_id_that_is_not_an_entity_id() -> None:
    with pytest.raises(RowError, match="invalid entity id"):
        entity_key("dip", "post", "a b")


def test_feature_field_is_feasts_mmh3() -> None:
    assert feature_field("post_features_daily", "views_delta").hex() == "7e5062bc"


@pytest.mark.parametrize(
    ("kind", "value", "expected"),
    [
        ("int", -3, "20fdffffffffffffffff01"),
        ("int", 0, "2000"),
        ("float", 0.1, "299a9999999999b93f"),
        ("bool", False, "3800"),
        ("str", "#عباية", "120b23d8b9d8a8d8a7d98ad8a9"),
        ("vector", [1.0, -2.0], "82010a0a080000803f000000c0"),
        ("vector", [], "820100"),
        ("int", None, ""),
        ("float", float("nan"), ""),
        ("vector", [1.0, float("inf")], ""),
    ],
)
def test_values_are_feasts_protobuf_bytes_and_read_back(kind: str, value: object, expected: str) -> None:
    assert value_bytes(kind, value).hex() == expected  # type: ignore[arg-type]
    back = decode_value(bytes.fromhex(expected))
    assert back == (None if expected == "" else value)


def test_values_feast_writes_for_other_types_read_too() -> None:
    assert decode_value(bytes.fromhex("18fdffffffffffffffff01")) == -3  # int32_val -3
    assert decode_value(bytes.fromhex("3800")) is False
    assert decode_value(bytes.fromhex("3801")) is True
    assert decode_value(bytes.fromhex("3500000040")) == 2.0  # float_val 2.0
    with pytest.raises(ValueError, match="unsupported"):
        decode_value(bytes.fromhex("0a00"))  # bytes_val


def test_wrong_types_are_refused() -> None:
    with pytest.raises(TypeError):
        value_bytes("int", True)
    with pytest.raises(TypeError):
        value_bytes("str", 3)


def test_timestamp_is_protobuf_timestamp_with_millis() -> None:
    assert timestamp_bytes(1764288000123).hex() == "0880cca3c90610c0a9d33a"  # Timestamp(1764288000, 123000000)
    assert timestamp_ms(bytes.fromhex("0880cca3c90610c0a9d33a")) == 1764288000123
    assert timestamp_bytes(1764288000000).hex() == "0880cca3c906"


def test_row_round_trip_through_the_fields_of_a_hash() -> None:
    row = {"entity_id": "p1", "_v": 20251128, "_ts": 1764288000123, "_fsv": 2, "views_delta": 5, "top": "x"}
    key, version, values = encode_feast_row(VIEW, row)
    assert key == entity_key("dip", "post", "p1") and version == b"20251128"
    assert len(values) == len(view_fields(VIEW)) == 2 + len(VIEW.features)
    record = decode_feast_fields(VIEW, "p1", [version, *values])
    assert record is not None
    assert (record.version, record.event_ts_ms, record.feature_set_version) == (20251128, 1764288000123, 2)
    assert record.features == {"views_delta": 5, "ratio": None, "is_arabic": None, "top": "x", "caption_vec": None}


def test_a_hash_written_by_feast_has_no_dip_fields() -> None:
    ts = timestamp_bytes(1764288000000)
    record = decode_feast_fields(VIEW, "p1", [None, ts, None, b"\x20\x05", None, None, None, None])
    assert record is not None
    assert (record.version, record.feature_set_version, record.features["views_delta"]) == (1764288000000, 0, 5)
    assert decode_feast_fields(VIEW, "p1", [None] * 8) is None


def test_a_row_outside_the_contract_is_refused() -> None:
    with pytest.raises(RowError, match="unknown fields"):
        encode_feast_row(VIEW, {"entity_id": "p1", "_v": 1, "_ts": 1, "_fsv": 1, "nope": 1})
    with pytest.raises(RowError, match="_v must be a non-negative integer"):
        encode_feast_row(VIEW, {"entity_id": "p1", "_v": -1, "_ts": 1, "_fsv": 1})
    with pytest.raises(RowError, match="feature views_delta"):
        encode_feast_row(VIEW, {"entity_id": "p1", "_v": 1, "_ts": 1, "_fsv": 1, "views_delta": "5"})
