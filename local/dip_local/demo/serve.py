"""The demo's serving step: the API on a free port with a one-off key, real HTTP reads and scores."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from dip.config import Config

SCORED_POSTS = 5


@dataclass
class ServeOutcome:
    """What the requests returned: counts, when the features were visible, sample lines for the summary."""

    counts: dict[str, int] = field(default_factory=dict)
    note: str = ""
    served_at: datetime | None = None
    samples: dict[str, str] = field(default_factory=dict)


def newest_window_posts(spark: Any, config: Config, limit: int = SCORED_POSTS) -> list[str]:
    """Post ids of the newest daily feature window (what the online store holds fresh), smallest first."""
    from pyspark.sql import functions as F

    from dip.io.table_access import read_table
    from dip.tables import FEATURE_TABLES

    daily = read_table(spark, config, FEATURE_TABLES["post_features_daily"])
    newest = daily.agg(F.max("window_end")).first()[0]
    if newest is None:
        return []
    rows = daily.where(F.col("window_end") == F.lit(newest)).select("post_id").distinct().orderBy("post_id")
    return [r["post_id"] for r in rows.limit(limit).collect()]


def account_ids(spark: Any, config: Config) -> list[str]:
    from dip.io.table_access import read_table
    from dip.tables import FEATURE_TABLES

    accounts = read_table(spark, config, FEATURE_TABLES["account_features_daily"])
    return [r["account_id"] for r in accounts.select("account_id").distinct().orderBy("account_id").collect()]


def serving_config(config: Config, key: str, scoring: bool) -> Config:
    """``config`` with one API key (features and score scopes) and scoring on when a model is served."""
    from dip.config.models import ApiKeyConfig

    copy = config.model_copy(deep=True)
    digest = hashlib.sha256(key.encode()).hexdigest()
    copy.serving.api_keys = {"demo": ApiKeyConfig(sha256=digest, scopes=["features:*", "score"])}
    copy.serving.scoring.enabled = scoring
    return copy


def _vector_summary(features: dict[str, Any]) -> dict[str, Any]:
    shown = dict(features)
    if isinstance(shown.get("caption_vec"), list):
        vec = shown["caption_vec"]
        shown["caption_vec"] = f"[{len(vec)} floats, {sum(1 for v in vec if v)} non-zero]"
    return shown


def serve_and_request(spark: Any, config: Config, clock: Callable[[], datetime], with_model: bool) -> ServeOutcome:
    """Features of sample posts and accounts over HTTP and, ``with_model``, champion scores of the posts."""
    from dip.ml.model_registry import load_champion
    from dip.serving.app import create_app
    from dip_local.simulator.server import background_server

    outcome = ServeOutcome()
    post_ids = newest_window_posts(spark, config)
    if not post_ids:
        outcome.note = "no post features to serve"
        return outcome
    model = load_champion(config) if with_model else None
    key = secrets.token_urlsafe(24)
    app = create_app(serving_config(config, key, model is not None), model=model)
    with background_server(app) as url, httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as http:
        one = http.get(f"/v1/features/post_features_daily/{post_ids[0]}")
        outcome.served_at = clock()
        one.raise_for_status()
        groups = [
            {"view": "post_features_daily", "entity_ids": post_ids},
            {"view": "account_features_daily", "entity_ids": account_ids(spark, config)[:3]},
            {"view": "post_live", "entity_ids": post_ids},
        ]
        batch = http.post("/v1/features:batch", json={"requests": groups})
        batch.raise_for_status()
        # the live view of a post that already has a previous snapshot (rates), else of any post
        lives = [i for i in batch.json()["results"] if i["view"] == "post_live" and i["found"]]
        rated = [i for i in lives if i["features"].get("views_per_hour") is not None]
        chosen = (rated or lives or [{"entity_id": post_ids[0]}])[0]["entity_id"]
        live = http.get(f"/v1/features/post_live/{chosen}")
        unauthorised = httpx.get(f"{url}/v1/features/post_features_daily/{post_ids[0]}", timeout=10).status_code
        # the first score also says which features moved it (explain=true)
        scores = []
        for n, post_id in enumerate(post_ids if model is not None else []):
            scores.append(http.post("/v1/score" + ("" if n else "?explain=true"), json={"entity_id": post_id}))
    for answer in scores:
        answer.raise_for_status()
    body = one.json()
    outcome.samples["served features"] = f"GET /v1/features/post_features_daily/{post_ids[0]} -> " + json.dumps(
        {"stale": body.get("stale"), "features": _vector_summary(body.get("features", {}))}, ensure_ascii=False
    )
    if live.status_code == 200:
        outcome.samples["live view"] = live_line(live.json())
    found = sum(1 for item in batch.json()["results"] if item["found"])
    outcome.counts = {"requests": 4 + len(scores), "entities found": found, "scores": len(scores)}
    outcome.note = f"unauthenticated request -> HTTP {unauthorised}"
    if scores:
        first = scores[0].json()
        outcome.samples["served score"] = f"POST /v1/score {{'entity_id': '{post_ids[0]}'}} -> " + json.dumps(
            {k: first[k] for k in ("score", "model_name", "model_version", "variant", "features_source", "stale")}
        )
        outcome.samples["served scores"] = score_spread([s.json()["score"] for s in scores])
        top = ", ".join(f"{c['feature']} {c['contribution']:+.4f}" for c in first["explanation"])
        outcome.samples["score explained"] = f"POST /v1/score?explain=true {post_ids[0]} -> {top}"
    return outcome


def live_line(body: dict[str, Any]) -> str:
    """A served post_live record in one line: its snapshot time and the counts and rates that matter most."""
    snapshot = datetime.fromtimestamp(body["event_ts_ms"] / 1000, UTC)
    shown = {
        k: body["features"].get(k) for k in ("views", "likes", "engagement_ratio", "views_per_hour", "likes_per_hour")
    }
    rates = ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in shown.items())
    return f"GET /v1/features/post_live/{body['entity_id']} -> snapshot {snapshot:%Y-%m-%d %H:%M:%S} UTC: {rates}"


def score_spread(values: list[float]) -> str:
    """How the served scores differ: count, distinct values, min..max and standard deviation."""
    import statistics

    return (
        f"{len(values)} posts, {len(set(values))} distinct scores, "
        f"min {min(values):.4f} max {max(values):.4f} std {statistics.pstdev(values):.4f}"
    )
