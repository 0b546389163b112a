"""Silver unit fixtures: the real schema registry and bronze-like rows parsed as the silver job parses them."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pyspark.sql import DataFrame, SparkSession

from dip.silver.parse import Registry, parse_entity
from dip.silver.spark_schema import load_registry

SCHEMAS = Path(__file__).resolve().parents[3] / "conf" / "schemas"
FETCHED_AT = datetime(2026, 11, 26, 14, 0, 0, tzinfo=UTC)
BRONZE_DDL = (
    "_record_key STRING, source STRING, entity STRING, schema_version INT, account_id STRING, entity_id STRING, "
    "fetched_at TIMESTAMP, run_id STRING, payload STRING"
)

Bronze = Callable[..., DataFrame]


@pytest.fixture(scope="session")
def registry() -> Registry:
    """Every payload schema registered under ``conf/schemas``."""
    return load_registry(SCHEMAS)


@pytest.fixture
def parsed(spark: SparkSession, registry: Registry) -> Bronze:
    """``parsed(source, entity, *payloads, entity_ids=...)``: bronze rows ``rk1, rk2, ...`` with ``p`` parsed.

    Every row has account ``acc-1``, run ``run-1`` and ``fetched_at`` = ``FETCHED_AT``; a payload is a dict
    (sent as JSON) or raw JSON text.
    """

    def make(source: str, entity: str, *payloads: dict[str, Any] | str, entity_ids: list[str] | None = None):
        ids = entity_ids or [f"e{i}" for i in range(1, len(payloads) + 1)]
        rows = [
            (f"rk{i}", source, entity, 1, "acc-1", ids[i - 1], FETCHED_AT, "run-1",
             p if isinstance(p, str) else json.dumps(p, ensure_ascii=False))
            for i, p in enumerate(payloads, start=1)
        ]  # fmt: skip
        return parse_entity(spark.createDataFrame(rows, BRONZE_DDL), source, entity, registry)

    return make
