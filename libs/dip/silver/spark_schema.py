"""Spark schemas of payloads, derived from the JSON Schema registry (``conf/schemas/<source>/<entity>/v<N>.json``)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DataType,
    DoubleType,
    LongType,
    StringType,
    StructField,
    StructType,
)

_VERSION_FILE = re.compile(r"^v(\d+)\.json$")
_SCALARS: dict[str, DataType] = {
    "string": StringType(),
    "integer": LongType(),
    "number": DoubleType(),
    "boolean": BooleanType(),
}


def spark_type(schema: Mapping[str, Any]) -> DataType:
    """JSON Schema -> Spark type: objects -> structs, nullable unions -> their type, untyped -> raw JSON text."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds = [k for k in kind if k != "null"]
        kind = kinds[0] if len(kinds) == 1 else None
    if kind == "object":
        props = schema.get("properties", {})
        return StructType([StructField(name, spark_type(sub), True) for name, sub in props.items()])
    if kind == "array":
        return ArrayType(spark_type(schema.get("items", {})), True)
    return _SCALARS.get(kind, StringType()) if isinstance(kind, str) else StringType()


def load_registry(schemas_dir: Path) -> dict[tuple[str, str], dict[int, StructType]]:
    """Every registered payload schema as a Spark struct, by (source, entity) and version."""
    registry: dict[tuple[str, str], dict[int, StructType]] = {}
    for path in sorted(schemas_dir.glob("*/*/v*.json")):
        match = _VERSION_FILE.match(path.name)
        if not match:
            continue
        source, entity = path.parent.parent.name, path.parent.name
        struct = spark_type(json.loads(path.read_text(encoding="utf-8")))
        if not isinstance(struct, StructType):
            raise ValueError(f"{path}: a payload schema must describe an object")
        registry.setdefault((source, entity), {})[int(match.group(1))] = struct
    return registry
