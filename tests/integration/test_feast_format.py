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
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyspark.sql import SparkSession

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.online import make_client, view_specs
from dip.online.feast_repo import write_feast_repo
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


POST_DAILY_DDL = (
    "source string, post_id string, account_id string, date string, window_start timestamp, window_end timestamp, "
    "snapshot_count int, views_delta bigint, likes_delta bigint, comments_delta bigint, shares_delta bigint, "
    "saves_delta bigint, engagement_ratio_last double, engagement_ratio_mean double, engagement_ratio_max double, "
    "growth_velocity double, hours_since_publish double, hashtag_count int, is_arabic boolean, is_latin boolean, "
    "caption_vec array<float>, feature_set_version int, computed_at timestamp"
)
HISTORY = """
import json, sys
import pandas as pd
from feast import FeatureStore
store = FeatureStore(repo_path=sys.argv[1])
rows = json.loads(sys.argv[2])
times = pd.to_datetime([r[1] for r in rows], utc=True)
entity_df = pd.DataFrame({"post_id": [r[0] for r in rows], "event_timestamp": times})
features = [f"post_features_daily:{f}" for f in json.loads(sys.argv[3])]
df = store.get_historical_features(entity_df=entity_df, features=features).to_df()
df["event_timestamp"] = df["event_timestamp"].map(lambda t: t.isoformat())
print(df.to_json(orient="records"))
"""


def _feature_row(post: str, day: int, views: int, ratio: float | None, vec: list[float] | None) -> tuple:
    start = datetime(2026, 11, day, tzinfo=UTC)
    end = start + timedelta(days=1)
    return ("instagram", post, "acc1", start.date().isoformat(), start, end, 2, views, views // 10, 1, 0, 0,
            ratio, ratio, ratio, 1.5 * day, 24.0 * day, 1, day % 2 == 0, None, vec, 1, end)  # fmt: skip


def test_feast_historical_features_equal_dip_features_history(
    spark: SparkSession, feast_config: Config, tmp_path: Path
) -> None:
    """Over Delta feature tables (Feast's file offline store), the same point-in-time rows as DIP's history."""
    from dip.features.offline import get_historical_features
    from dip.features.specs import POST_DAILY
    from dip.features.store import feature_store

    config = feast_config
    config.features.table_format = "delta"
    store = feature_store(spark, config)
    for day, rows in (
        (24, [_feature_row("p1", 24, 10, 0.1, [1.0, 0.0]), _feature_row("p2", 24, 5, None, None)]),
        (25, [_feature_row("p1", 25, 40, 0.25, [0.5, -1.0])]),
    ):
        store.upsert(spark.createDataFrame(rows, POST_DAILY_DDL), POST_DAILY, f"2026-11-{day}")
    entities = [  # (post, as-of time): after day 24's window, after day 25's, exactly at a window end, before any
        ("p1", "2026-11-25T12:00:00+00:00"),
        ("p1", "2026-11-26T06:00:00+00:00"),
        ("p2", "2026-11-25T00:00:00+00:00"),
        ("p2", "2026-11-24T23:00:00+00:00"),
    ]
    features = list(view_specs(config.online)["post_features_daily"].features)

    entity_df = spark.createDataFrame(
        [(p, datetime.fromisoformat(t)) for p, t in entities], "entity_id string, ts timestamp"
    )
    dip_rows = get_historical_features(spark, config, entity_df, ["post_features_daily"]).collect()
    ours = {
        (r["entity_id"], r["ts"].replace(tzinfo=UTC).isoformat()): {
            f: _plain(r[f"post_features_daily__{f}"]) for f in features
        }
        for r in dip_rows
    }

    repo = tmp_path / "feature_repo"
    write_feast_repo(config, repo)
    _feast(str(FEAST_PYTHON.parent / "feast"), "apply", cwd=repo)
    out = _feast(str(FEAST_PYTHON), "-c", HISTORY, str(repo), json.dumps(entities), json.dumps(features), cwd=tmp_path)
    theirs = {(r["post_id"], r["event_timestamp"]): {f: r[f] for f in features} for r in json.loads(out)}

    assert ours == theirs
    assert ours[("p1", "2026-11-26T06:00:00+00:00")]["views_delta"] == 40  # day 25's window (ends 26th 00:00)
    assert ours[("p1", "2026-11-25T12:00:00+00:00")]["caption_vec"] == [1.0, 0.0]
    assert ours[("p2", "2026-11-25T00:00:00+00:00")]["views_delta"] == 5  # a window ending at the time counts
    assert set(ours[("p2", "2026-11-24T23:00:00+00:00")].values()) == {None}  # no window ended yet


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value


def test_feast_format_writes_are_compare_and_set_per_view(feast_config: Config) -> None:
    """An older or equal version never wins; a view's write keeps the entity's other views; the TTL only grows."""
    from dip.online import read_many, write_batch

    specs = view_specs(feast_config.online)
    daily, live = specs["post_features_daily"], specs["post_live"]
    client = make_client(feast_config.redis)
    key = stored_key(daily, "p7")
    try:
        row = {"entity_id": "p7", "_ts": TS_MS, "_fsv": 1}
        assert write_batch(client, [{**row, "_v": 20251128000000001, "views_delta": 3}], daily).written == 1
        assert write_batch(client, [{**row, "_v": 5, "views": 10}], live, ttl_s=60).written == 1
        assert 172700 < client.ttl(key) <= 172800  # the shorter TTL of the live write did not shorten the key's
        stale = write_batch(client, [{**row, "_v": 20251128000000000, "views_delta": 99}], daily)
        equal = write_batch(client, [{**row, "_v": 20251128000000001, "views_delta": 98}], daily)
        assert (stale.skipped_stale, equal.skipped_stale) == (1, 1)
        newer = write_batch(client, [{**row, "_v": 20251128000000002, "_ts": TS_MS + 1, "likes_delta": 4}], daily)
        assert newer.written == 1
        (got_daily,) = read_many(client, daily, ["p7"])
        (got_live,) = read_many(client, live, ["p7"])
        assert got_daily is not None and got_live is not None
        assert (got_daily.version, got_daily.event_ts_ms) == (20251128000000002, TS_MS + 1)
        assert (got_daily.features["views_delta"], got_daily.features["likes_delta"]) == (None, 4)  # row replaced
        assert (got_live.version, got_live.features["views"]) == (5, 10)  # the other view is untouched
        assert read_many(client, daily, ["nothing"]) == [None]
    finally:
        client.delete(key)
        client.close()
