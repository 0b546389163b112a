"""Serving predictions (dip/prediction v1 envelopes in bronze) -> silver ``predictions`` rows, keyed by request id."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from pyspark.sql import SparkSession

from dip.silver.merge import SPECS, latest_per_key
from dip.silver.process import normalise
from dip.silver.spark_schema import load_registry

SCHEMAS = Path(__file__).resolve().parents[3] / "conf" / "schemas"


def _payload(request_id: str, score: float, scored_at: str) -> str:
    return json.dumps(
        {
            "request_id": request_id,
            "entity_id": "p1",
            "view": "post_features_daily",
            "feature_set_version": 3,
            "model_name": "dip-engagement",
            "model_version": "7",
            "variant": "champion",
            "score": score,
            "scored_at": scored_at,
        }
    )


def test_predictions_normalised_and_keyed_by_request_id(spark: SparkSession) -> None:
    registry = load_registry(SCHEMAS)
    assert ("dip", "prediction") in registry
    rows = [
        ("k1", "dip", "prediction", 1, "r1", _payload("r1", 0.5, "2026-11-26T14:00:00.123456Z")),
        ("k2", "dip", "prediction", 1, "r1", _payload("r1", 0.6, "2026-11-26T14:00:01.000000Z")),
        ("k3", "dip", "prediction", 1, "r2", _payload("r2", 0.1, "2026-11-26T15:00:00Z")),
    ]
    bronze = spark.createDataFrame(
        [(*r, None, None, datetime(2026, 11, 26, 14)) for r in rows],
        "_record_key STRING, source STRING, entity STRING, schema_version INT, entity_id STRING, payload STRING, "
        "account_id STRING, run_id STRING, fetched_at TIMESTAMP",
    )
    frames, bad = normalise(bronze, registry)
    assert bad.count() == 0
    merged = latest_per_key(frames["predictions"].drop("_record_key"), SPECS["predictions"])
    got = {r["request_id"]: r.asDict() for r in merged.collect()}
    assert got["r1"] == {
        "request_id": "r1",
        "source": "dip",
        "entity_id": "p1",
        "view": "post_features_daily",
        "feature_set_version": 3,
        "model_name": "dip-engagement",
        "model_version": "7",
        "variant": "champion",
        "score": 0.6,
        "scored_at": datetime(2026, 11, 26, 14, 0, 1),
    }
    assert got["r2"]["scored_at"] == datetime(2026, 11, 26, 15, 0, 0)
