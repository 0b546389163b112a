"""JSON Schema -> Spark types, and the registry of payload schemas by (source, entity) and version."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

from dip.silver.spark_schema import load_registry, spark_type


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        pytest.param({"type": "integer"}, LongType(), id="integer-is-bigint"),
        pytest.param({"type": "number"}, DoubleType(), id="number-is-double"),
        pytest.param({"type": "boolean"}, BooleanType(), id="boolean"),
        pytest.param({"type": "string", "format": "date-time"}, StringType(), id="string"),
        pytest.param({"type": ["null", "integer"]}, LongType(), id="nullable-union"),
        pytest.param({"type": ["string", "null"]}, StringType(), id="nullable-union-null-last"),
        pytest.param({"type": ["string", "integer"]}, StringType(), id="ambiguous-union-is-text"),
        pytest.param({}, StringType(), id="untyped-is-text"),
        pytest.param({"type": "array"}, ArrayType(StringType(), True), id="array-without-items"),
    ],
)
def test_scalar_and_union_types(schema: dict, expected: object) -> None:
    assert spark_type(schema) == expected


def test_object_with_nested_arrays_of_objects() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "count": {"type": ["integer", "null"]},
            "data": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "values": {"type": "array", "items": {"type": "object", "properties": {"value": {}}}},
                        "score": {"type": "number"},
                    },
                },
            },
        },
    }
    assert spark_type(schema) == StructType(
        [
            StructField("id", StringType(), True),
            StructField("count", LongType(), True),
            StructField(
                "data",
                ArrayType(
                    StructType(
                        [
                            StructField("name", StringType(), True),
                            StructField(
                                "values", ArrayType(StructType([StructField("value", StringType(), True)]), True), True
                            ),
                            StructField("score", DoubleType(), True),
                        ]
                    ),
                    True,
                ),
                True,
            ),
        ]
    )


def _write(root: Path, rel: str, schema: object) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(schema), encoding="utf-8")


def test_load_registry_by_source_entity_and_version(tmp_path: Path) -> None:
    v1 = {"type": "object", "properties": {"id": {"type": "string"}}}
    v2 = {"type": "object", "properties": {"id": {"type": "string"}, "alt_text": {"type": ["string", "null"]}}}
    _write(tmp_path, "instagram/media/v1.json", v1)
    _write(tmp_path, "instagram/media/v2.json", v2)
    _write(tmp_path, "instagram/media/v10.json", v2)
    _write(tmp_path, "tiktok/user/v1.json", {"type": "object", "properties": {"open_id": {"type": "string"}}})
    _write(tmp_path, "tiktok/user/vnext.json", {"type": "string"})  # not v<N>.json: ignored
    _write(tmp_path, "tiktok/user/README.md", "notes")

    registry = load_registry(tmp_path)

    id_field = StructField("id", StringType(), True)
    with_alt = StructType([id_field, StructField("alt_text", StringType(), True)])
    assert registry == {
        ("instagram", "media"): {1: StructType([id_field]), 2: with_alt, 10: with_alt},
        ("tiktok", "user"): {1: StructType([StructField("open_id", StringType(), True)])},
    }


def test_load_registry_rejects_a_schema_that_is_not_an_object(tmp_path: Path) -> None:
    _write(tmp_path, "tiktok/video/v1.json", {"type": "array", "items": {"type": "string"}})
    message = f"{tmp_path / 'tiktok/video/v1.json'}: a payload schema must describe an object"
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        load_registry(tmp_path)


def test_empty_directory_is_an_empty_registry(tmp_path: Path) -> None:
    assert load_registry(tmp_path) == {}
