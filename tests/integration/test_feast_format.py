"""Feast's own SDK (Feast 0.67 in .venv-feast, `make feast-venv`) reads what DIP writes with ``online.format: feast``.

DIP's executor writer (the one push-online and stream_live use) writes three views, nightly and live, with every
feature type and nulls; `dip feast export` writes the Feast repo, `feast apply` registers it, and
``FeatureStore.get_online_features`` must return exactly what DIP's ``/v1/features`` serves from the same keys.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyspark.sql import SparkSession

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.online import make_client, view_specs
from dip.online.spark_write import write_online
from dip.online.store import stored_key
from dip.serving import create_app
from tests.integration.helpers import isolated_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
FEAST_PYTHON = ROOT / ".venv-feast" / "bin" / "python"
API_KEY = "feast-test-key"
SPARK_TYPES = {"int": "bigint", "float": "double", "bool": "boolean", "str": "string", "vector": "array<float>"}
TS_MS = 1764288000000  # 2025-11-28T00:00:00Z
NAN = float("nan")

ROWS: dict[str, list[dict[str, Any]]] = {
    "post_features_daily": [
        {"entity_id": "p1", "views_delta": 120, "likes_delta": -3, "comments_delta": 0, "shares_delta": 2,
         "saves_delta": 1, "engagement_ratio_last": 0.1, "engagement_ratio_mean": 0.25, "engagement_ratio_max": 1e-05,
         "growth_velocity": 3.5, "hours_since_publish": 24.0, "snapshot_count": 4, "hashtag_count": 2,
         "is_arabic": True, "is_latin": False, "caption_vec": [1.0, -2.0, 0.5]},
        {"entity_id": "p2", "views_delta": 7, "likes_delta": None, "engagement_ratio_last": NAN,
         "is_arabic": False, "is_latin": None, "caption_vec": None, "snapshot_count": 1},
    ],
    "account_features_daily": [
        {"entity_id": "acc1", "followers": 1500, "follower_growth": -2, "posting_frequency": 3,
         "engagement_mean_7d": 0.125, "engagement_mean_28d": None, "best_posting_hour": 0,
         "top_hashtags": "abaya عباية modest"},
    ],
    "post_live": [{"entity_id": "p1", "views": 900, "likes": None, "views_per_hour": 12.5}],
}  # fmt: skip

READER = """
import json, sys
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
out = {}
for view, (join_key, ids, features) in json.loads(sys.argv[2]).items():
    rows = [{join_key: i} for i in ids]
    out[view] = store.get_online_features(features=[f"{view}:{f}" for f in features], entity_rows=rows).to_dict()
print(json.dumps(out))
"""


def _feast(*args: str, cwd: Path) -> str:
    out = subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, (out.stdout + out.stderr)[-3000:]
    return out.stdout


@pytest.fixture()
def feast_config(stack: Config, tmp_path: Path) -> Config:
    if not FEAST_PYTHON.exists():
        pytest.fail(f"no Feast venv at {FEAST_PYTHON.parent.parent}: run `make feast-venv`")
    config = isolated_config(stack, tmp_path)
    config.online.format = "feast"
    config.online.feast_project = f"t{uuid.uuid4().hex[:10]}"
    digest = hashlib.sha256(API_KEY.encode()).hexdigest()
    config.serving.api_keys = {"t": ApiKeyConfig(sha256=digest, scopes=["features:*"])}
    return config


def _write(spark: SparkSession, config: Config) -> None:
    specs = view_specs(config.online)
    for view, rows in ROWS.items():
        spec = specs[view]
        ddl = ", ".join(
            ["entity_id string, _v bigint, _ts bigint, _fsv bigint"]
            + [f"{name} {SPARK_TYPES[kind]}" for name, kind in spec.features.items()]
        )
        full = [(r["entity_id"], 5, TS_MS, 1, *(r.get(name) for name in spec.features)) for r in rows]
        result = write_online(spark.createDataFrame(full, ddl).repartition(2), config.redis, spec, 500)
        assert (result.written, result.skipped_stale) == (len(rows), 0)


def test_feast_sdk_reads_what_dip_writes_and_serves(spark: SparkSession, feast_config: Config, tmp_path: Path) -> None:
    config = feast_config
    specs = view_specs(config.online)
    client = make_client(config.redis)
    try:
        _write(spark, config)
        key = stored_key(specs["post_features_daily"], "p1")
        assert key.endswith(config.online.feast_project.encode()) and client.ttl(key) == 172800

        repo = tmp_path / "feature_repo"
        environ = {"DIP__ONLINE__FORMAT": "feast", "DIP__ONLINE__FEAST_PROJECT": config.online.feast_project}
        subprocess.run(
            [sys.executable, "-m", "dip.cli", "feast", "export", "--out", str(repo)],
            check=True,
            capture_output=True,
            env={**os.environ, **environ, "DIP__REDIS__DB": str(config.redis.db), "DIP__LAKE__ROOT": config.lake.root},
        )
        _feast(str(FEAST_PYTHON.parent / "feast"), "apply", cwd=repo)
        requests = {
            view: [f"{specs[view].entity}_id", [r["entity_id"] for r in rows], list(specs[view].features)]
            for view, rows in ROWS.items()
        }
        feast = json.loads(_feast(str(FEAST_PYTHON), "-c", READER, str(repo), json.dumps(requests), cwd=tmp_path))

        with TestClient(create_app(config)) as api:
            for view, rows in ROWS.items():
                for i, row in enumerate(rows):
                    served = api.get(f"/v1/features/{view}/{row['entity_id']}", headers={"X-API-Key": API_KEY})
                    assert served.status_code == 200, served.text
                    body = served.json()
                    assert (body["version"], body["event_ts_ms"], body["feature_set_version"]) == (5, TS_MS, 1)
                    from_feast = {name: feast[view][name][i] for name in specs[view].features}
                    assert from_feast == body["features"], (view, row["entity_id"])

        # written values, by hand: nulls and NaN are null, the vector is float32, text survives
        assert feast["post_features_daily"]["caption_vec"] == [[1.0, -2.0, 0.5], None]
        assert feast["post_features_daily"]["likes_delta"] == [-3, None]
        assert feast["post_features_daily"]["engagement_ratio_last"] == [0.1, None]
        assert feast["post_features_daily"]["is_latin"] == [False, None]
        assert feast["post_features_daily"]["engagement_ratio_max"] == [1e-05, None]
        assert feast["account_features_daily"]["top_hashtags"] == ["abaya عباية modest"]
        assert feast["account_features_daily"]["engagement_mean_28d"] == [None]
        assert feast["post_live"]["views"] == [900] and feast["post_live"]["views_per_hour"] == [12.5]
    finally:
        for view, rows in ROWS.items():
            client.delete(*(stored_key(specs[view], r["entity_id"]) for r in rows))
        client.close()
