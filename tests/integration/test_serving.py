"""The serving API over real HTTP (uvicorn on a free port) against the real Redis.

Each run uses two views with unique names (deleted afterwards) declared through DIP__* overrides,
API keys stored as sha256 hashes, an HS256 JWT secret from the environment and a two-variant split.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx
import jwt
import pytest
import redis
import uvicorn
from fastapi import FastAPI

from dip.config import Config, load_config
from dip.online import make_client, view_specs, write_batch
from dip.online.codec import FeatureValue
from dip.serving import create_app

pytestmark = pytest.mark.integration

RUN = uuid.uuid4().hex[:12]
POSTS = f"test_posts_{RUN}"
ACCOUNTS = f"test_accounts_{RUN}"
JWT_SECRET = "integration-jwt-secret-0123456789abcdef"
KEYS = {"reader": "reader-key-1", "admin": "admin-key-1", "scorer": "scorer-key-1", "ops": "ops-key-1"}
SCOPES = {"reader": [f"features:{POSTS}"], "admin": ["features:*", "score"], "scorer": ["score"], "ops": ["admin"]}
PREDICTIONS_TOPIC = f"test.serving.{uuid.uuid4().hex[:8]}.predictions"
TS: dict[str, int] = {}  # event times relative to when Redis is seeded (the `client` fixture), not to collection


def _set_times() -> None:
    now_ms = int(time.time() * 1000)
    TS.update({"p1": now_ms - 60_000, "p2": now_ms - 7_200_000, "p3": now_ms, "p9": now_ms, "acct-9": now_ms - 1000})
    P1["event_ts_ms"] = TS["p1"]


class LinearModel:
    """A tiny real model: 0.5 * views + 2 * ratio + 10 * hashtag_count + followers / 1000 (absent or null: 0)."""

    def __init__(self, version: str) -> None:
        self.name, self.version = "dip-engagement", version

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        weights = {"views": 0.5, "ratio": 2.0, "hashtag_count": 10.0, "followers": 0.001}
        return sum(w * float(features.get(name) or 0) for name, w in weights.items())  # type: ignore[arg-type]


def _environ(test_config: Config, **extra: str) -> dict[str, str]:
    api_keys = {
        f"DIP__SERVING__API_KEYS__{name.upper()}": json.dumps(
            {"sha256": hashlib.sha256(key.encode()).hexdigest(), "scopes": SCOPES[name]}
        )
        for name, key in KEYS.items()
    }
    return {
        **os.environ,
        "DIP__LAKE__ROOT": test_config.lake.root,
        "DIP__KAFKA__TOPICS__PREDICTIONS": PREDICTIONS_TOPIC,  # scores are logged: never to the default topic
        f"DIP__ONLINE__VIEWS__{POSTS.upper()}": json.dumps(
            {
                "entity": "post",
                "ttl_seconds": 3600,
                "features": {"views": "int", "ratio": "float", "caption": "str", "arabic": "bool", "vec": "vector"},
            }
        ),
        f"DIP__ONLINE__VIEWS__{ACCOUNTS.upper()}": json.dumps(
            {"entity": "account", "ttl_seconds": 86400, "features": {"followers": "int", "top_hashtags": "str"}}
        ),
        **api_keys,
        "DIP__SERVING__MAX_BATCH_ENTITIES": "50",
        "DIP__SERVING__JWT__ENABLED": "true",
        "DIP__SERVING__JWT__AUDIENCE": "dip",
        "DIP__SERVING__JWT__ISSUER": "dip-auth",
        "DIP__SERVING__JWT__SECRET": JWT_SECRET,
        "DIP__SERVING__SCORING__ENABLED": "true",
        "DIP__SERVING__SCORING__VIEW": POSTS,
        "DIP__SERVING__SCORING__ACCOUNT_VIEW": ACCOUNTS,
        "DIP__SERVING__SCORING__EXPERIMENT": "exp",
        "DIP__SERVING__SCORING__VARIANTS": '[{"name": "control", "weight": 25}, {"name": "treatment", "weight": 75}]',
        **extra,
    }


@pytest.fixture(scope="module")
def config(stack: Config) -> Config:
    return load_config("local", environ=_environ(stack))


@pytest.fixture(scope="module")
def client(config: Config) -> Iterator[redis.Redis]:
    """Redis seeded with the test views' entities; every key of both views is deleted afterwards."""
    _set_times()
    client = make_client(config.redis)
    views = view_specs(config.online)
    base = {"_fsv": 3}
    write_batch(
        client,
        [
            {
                "entity_id": "p1",
                "_v": 10,
                "_ts": TS["p1"],
                **base,
                "views": 120,
                "ratio": 0.25,
                "caption": "عباية ✨",
                "arabic": True,
                "vec": [1.0, -2.0],
            },
            {"entity_id": "p2", "_v": 11, "_ts": TS["p2"], **base, "views": 7, "ratio": None},
            {"entity_id": "p3", "_v": 12, "_ts": TS["p3"], **base, "views": 1, "ratio": 0.5},
        ],
        views[POSTS],
    )
    write_batch(
        client,
        [
            {
                "entity_id": "acct-9",
                "_v": 1,
                "_ts": TS["acct-9"],
                **base,
                "followers": 1500,
                "top_hashtags": "abaya modest",
            }
        ],
        views[ACCOUNTS],
    )
    yield client
    for view in (POSTS, ACCOUNTS):
        keys = list(client.scan_iter(match=f"dip:{view}:*", count=1000))
        if keys:
            client.delete(*keys)
    client.close()


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Run ``app`` under uvicorn in a thread on a free loopback port; yields the base URL."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


def _models() -> dict[str, LinearModel]:
    return {"control": LinearModel("7"), "treatment": LinearModel("8")}


@pytest.fixture(scope="module")
def http(config: Config, client: redis.Redis) -> Iterator[httpx.Client]:
    with serving(create_app(config, model=_models())) as url, httpx.Client(base_url=url, timeout=5) as http:
        yield http


def _key(name: str) -> dict[str, str]:
    return {"X-API-Key": KEYS[name]}


def _bearer(scope: str, exp_in_s: int = 3600) -> dict[str, str]:
    token = jwt.encode(
        {"sub": "svc-a", "iss": "dip-auth", "aud": "dip", "scope": scope, "exp": int(time.time()) + exp_in_s},
        JWT_SECRET,
    )
    return {"Authorization": f"Bearer {token}"}


P1 = {
    "view": POSTS,
    "entity_id": "p1",
    "version": 10,
    "event_ts_ms": None,  # set with TS
    "feature_set_version": 3,
    "stale": False,
    "features": {"views": 120, "ratio": 0.25, "caption": "عباية ✨", "arabic": True, "vec": [1.0, -2.0]},
}


def test_health_and_readiness(http: httpx.Client) -> None:
    assert (http.get("/healthz").status_code, http.get("/healthz").json()) == (200, {"status": "ok", "checks": {}})
    ready = http.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready", "checks": {"redis": "ok", "model": "ok"}})


def test_single_entity_exact_values(http: httpx.Client) -> None:
    response = http.get(f"/v1/features/{POSTS}/p1", headers=_key("reader"))
    assert (response.status_code, response.json()) == (200, P1)


def test_stale_features_are_flagged(http: httpx.Client) -> None:
    body = http.get(f"/v1/features/{POSTS}/p2", headers=_key("reader")).json()
    assert body["stale"] is True
    assert body["features"] == {"views": 7, "ratio": None, "caption": None, "arabic": None, "vec": None}


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [  # headers are built when the test runs: a token minted at collection could expire before it
        (
            dict,
            401,
            {
                "error": "unauthorized",
                "detail": "missing credentials: send an X-API-Key header or Authorization: Bearer <jwt>",
            },
        ),
        (lambda: {"X-API-Key": "wrong-key"}, 401, {"error": "unauthorized", "detail": "invalid API key"}),
        (
            lambda: {"Authorization": "Bearer not.a.jwt"},
            401,
            {"error": "unauthorized", "detail": "invalid bearer token: Invalid header padding"},
        ),
        (
            lambda: _key("scorer"),
            403,
            {"error": "forbidden", "detail": f"credential 'scorer' lacks scope 'features:{POSTS}'"},
        ),
        (
            lambda: _bearer("score"),
            403,
            {"error": "forbidden", "detail": f"credential 'svc-a' lacks scope 'features:{POSTS}'"},
        ),
        (
            lambda: _bearer(f"features:{POSTS}", exp_in_s=-3600),
            401,
            {"error": "unauthorized", "detail": "invalid bearer token: Signature has expired"},
        ),
    ],
)
def test_auth_failures(
    http: httpx.Client, headers: Callable[[], dict[str, str]], status: int, body: dict[str, str]
) -> None:
    response = http.get(f"/v1/features/{POSTS}/p1", headers=headers())
    assert (response.status_code, response.json()) == (status, body)
    if status == 401:
        assert response.headers["www-authenticate"] == 'Bearer, ApiKey header="X-API-Key"'


def test_valid_jwt_and_wildcard_scope(http: httpx.Client) -> None:
    assert http.get(f"/v1/features/{POSTS}/p1", headers=_bearer(f"score features:{POSTS}")).json() == P1
    account = http.get(f"/v1/features/{ACCOUNTS}/acct-9", headers=_key("admin"))
    assert account.json()["features"] == {"followers": 1500, "top_hashtags": "abaya modest"}
    forbidden = http.get(f"/v1/features/{ACCOUNTS}/acct-9", headers=_key("reader"))
    assert forbidden.status_code == 403


def test_unknown_view_and_missing_entity_are_404(http: httpx.Client) -> None:
    unknown = http.get("/v1/features/nope/p1", headers=_key("admin"))
    assert (unknown.status_code, unknown.json()) == (
        404,
        {
            "error": "unknown_view",
            "detail": "unknown feature view 'nope'; known: "
            f"post_features_daily, account_features_daily, post_live, account_live, {POSTS}, {ACCOUNTS}",
        },
    )
    missing = http.get(f"/v1/features/{POSTS}/p404", headers=_key("reader"))
    assert (missing.status_code, missing.json()) == (
        404,
        {
            "error": "features_not_found",
            "detail": f"no features stored for entity 'p404' in view '{POSTS}' (never pushed, or expired after TTL)",
        },
    )


@pytest.mark.parametrize("entity_id", ["x" * 65, "a*b", "a%20b", "%7Bhash%7D", "p1%0D%0AFLUSHALL"])
def test_malformed_entity_id_is_422(http: httpx.Client, entity_id: str) -> None:
    response = http.get(f"/v1/features/{POSTS}/{entity_id}", headers=_key("reader"))
    assert response.status_code == 422
    body = response.json()
    assert body["error"] == "invalid_request"
    assert [(e["loc"], e["type"]) for e in body["detail"]] in (
        [(["path", "entity_id"], "string_pattern_mismatch")],
        [(["path", "entity_id"], "string_too_long")],
    )


def test_batch_read_of_several_entities_and_views(http: httpx.Client) -> None:
    body = {
        "requests": [{"view": POSTS, "entity_ids": ["p1", "p404", "p3"]}, {"view": ACCOUNTS, "entity_ids": ["acct-9"]}]
    }
    response = http.post("/v1/features:batch", json=body, headers=_key("admin"))
    assert response.status_code == 200
    assert response.json() == {
        "results": [
            {**P1, "found": True},
            {
                "view": POSTS,
                "entity_id": "p404",
                "found": False,
                "version": None,
                "event_ts_ms": None,
                "feature_set_version": None,
                "stale": None,
                "features": None,
            },
            {
                "view": POSTS,
                "entity_id": "p3",
                "found": True,
                "version": 12,
                "event_ts_ms": TS["p3"],
                "feature_set_version": 3,
                "stale": False,
                "features": {"views": 1, "ratio": 0.5, "caption": None, "arabic": None, "vec": None},
            },
            {
                "view": ACCOUNTS,
                "entity_id": "acct-9",
                "found": True,
                "version": 1,
                "event_ts_ms": TS["acct-9"],
                "feature_set_version": 3,
                "stale": False,
                "features": {"followers": 1500, "top_hashtags": "abaya modest"},
            },
        ]
    }


def test_batch_errors(http: httpx.Client) -> None:
    post = lambda body, key="admin": http.post("/v1/features:batch", json=body, headers=_key(key))  # noqa: E731
    assert post({"requests": [{"view": "nope", "entity_ids": ["p1"]}]}).json()["error"] == "unknown_view"
    forbidden = post({"requests": [{"view": ACCOUNTS, "entity_ids": ["acct-9"]}]}, key="reader")
    assert (forbidden.status_code, forbidden.json()["detail"]) == (
        403,
        f"credential 'reader' lacks scope 'features:{ACCOUNTS}'",
    )
    too_many = post({"requests": [{"view": POSTS, "entity_ids": [f"p{i}" for i in range(51)]}]})
    assert (too_many.status_code, too_many.json()) == (
        422,
        {"error": "invalid_request", "detail": "51 entities requested; at most 50 per request"},
    )
    bad_id = post({"requests": [{"view": POSTS, "entity_ids": ["p1", "bad id"]}]})
    assert bad_id.status_code == 422
    assert [e["loc"] for e in bad_id.json()["detail"]] == [["body", "requests", 0, "entity_ids", 1]]
    assert post({"requests": []}).status_code == 422


def test_stale_write_never_overwrites_newer_features(http: httpx.Client, config: Config, client: redis.Redis) -> None:
    view = view_specs(config.online)[POSTS]
    row = {"entity_id": "p9", "_ts": TS["p9"], "_fsv": 3}
    assert write_batch(client, [{**row, "_v": 5, "views": 50}], view).written == 1
    assert write_batch(client, [{**row, "_v": 4, "views": 40}], view).skipped_stale == 1
    assert http.get(f"/v1/features/{POSTS}/p9", headers=_key("reader")).json()["features"]["views"] == 50
    assert 3595 <= client.ttl(f"dip:{POSTS}:p9") <= 3600


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        # sticky buckets (sha256 of "exp:<id>", first 8 bytes mod 100): p1 -> 22 (control < 25), p2 -> 26
        (
            {"entity_id": "p1"},
            {
                "score": 60.5,
                "variant": "control",
                "model_version": "7",
                "features_source": "online_store",
                "feature_set_version": 3,
                "stale": False,
            },
        ),
        (
            {"entity_id": "p2"},
            {
                "score": 3.5,
                "variant": "treatment",
                "model_version": "8",
                "features_source": "online_store",
                "feature_set_version": 3,
                "stale": True,
            },
        ),
        (
            {"entity_id": "new-post", "features": {"views": 10, "ratio": 1.5}},
            {
                "score": 8.0,
                "variant": "treatment",
                "model_version": "8",
                "features_source": "request",
                "feature_set_version": None,
                "stale": False,
            },
        ),
    ],
)
def test_score(http: httpx.Client, body: dict[str, object], expected: dict[str, object]) -> None:
    response = http.post("/v1/score", json=body, headers=_key("scorer"))
    assert response.status_code == 200
    assert response.json() == {"entity_id": body["entity_id"], "model_name": "dip-engagement", **expected}


def test_score_errors(http: httpx.Client) -> None:
    missing = http.post("/v1/score", json={"entity_id": "p404"}, headers=_key("scorer"))
    assert (missing.status_code, missing.json()["error"]) == (404, "features_not_found")
    forbidden = http.post("/v1/score", json={"entity_id": "p1"}, headers=_key("reader"))
    assert (forbidden.status_code, forbidden.json()["detail"]) == (403, "credential 'reader' lacks scope 'score'")


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        ('{"entity_id": "p1", "features": {"views": 1e400}}', ["body", "features", "views"]),
        ('{"entity_id": "p1", "features": {"views": NaN}}', ["body", "features", "views"]),
        ('{"entity_id": "p1", "features": {"views": -Infinity}}', ["body", "features", "views"]),
        ('{"entity_id": "p1", "features": {"views": 1' + "0" * 400 + "}}", ["body", "features", "views"]),
        ('{"entity_id": "p1", "features": {"vec": [1.0, 1e999]}}', ["body", "features", "vec"]),
    ],
)
def test_non_finite_and_huge_numbers_are_422_in_the_error_shape(http: httpx.Client, raw: str, loc: list) -> None:
    headers = _key("scorer") | {"content-type": "application/json"}
    response = http.post("/v1/score", content=raw, headers=headers)
    assert response.status_code == 422 and response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["error"] == "invalid_request"
    assert {tuple(e["loc"][:3]) for e in body["detail"]} == {tuple(loc)}
    assert all(len(json.dumps(e)) < 1000 for e in body["detail"])  # a 400-digit input is not echoed whole


def test_request_size_and_list_limits(config: Config, http: httpx.Client) -> None:
    limit = config.serving.max_body_bytes
    too_big = b'{"entity_id": "p1", "features": {"caption": "' + b"x" * limit + b'"}}'
    declared = http.post("/v1/score", content=too_big, headers={"content-type": "application/json"})
    assert (declared.status_code, declared.json()) == (
        413,
        {"error": "payload_too_large", "detail": f"request body exceeds {limit} bytes"},
    )  # before authentication: no credentials were sent

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while it streams
        yield too_big[: limit // 2]
        yield too_big[limit // 2 :]

    streamed = http.post("/v1/score", content=chunks(), headers=_key("scorer") | {"content-type": "application/json"})
    assert (streamed.status_code, streamed.json()["error"]) == (413, "payload_too_large")

    many = {"entity_id": "p1", "features": {f"f{i}": i for i in range(1001)}}
    response = http.post("/v1/score", json=many, headers=_key("scorer"))
    assert (response.status_code, response.json()["detail"][0]["type"]) == (422, "too_long")
    groups = {"requests": [{"view": POSTS, "entity_ids": ["p1"]}] * 101}
    response = http.post("/v1/features:batch", json=groups, headers=_key("admin"))
    assert (response.status_code, response.json()["detail"][0]["type"]) == (422, "too_long")


def test_score_a_new_post_from_caption_and_account_features(http: httpx.Client) -> None:
    published = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 7200))
    post = {"account_id": "acct-9", "caption": "Black abaya #Abaya #abaya ✨", "published_at": published}
    response = http.post("/v1/score", json={"entity_id": "draft-1", "post": post}, headers=_key("scorer"))
    # one distinct hashtag (10) + 1500 followers (1.5); bucket of exp:draft-1 = 0xb31a598465cfc24d % 100 = 45
    assert (response.status_code, response.json()) == (
        200,
        {
            "entity_id": "draft-1",
            "score": 11.5,
            "model_name": "dip-engagement",
            "model_version": "8",
            "variant": "treatment",
            "features_source": "new_post",
            "feature_set_version": 3,
            "stale": False,
        },
    )
    sent_tags = {"account_id": "acct-9", "caption": "عباية", "hashtags": ["#a", "b", "B"]}
    assert (
        http.post("/v1/score", json={"entity_id": "draft-2", "post": sent_tags}, headers=_key("scorer")).json()["score"]
        == 21.5
    )


def test_new_post_errors(http: httpx.Client) -> None:
    def score(post: dict[str, object]) -> httpx.Response:
        return http.post("/v1/score", json={"entity_id": "draft-1", "post": post}, headers=_key("scorer"))

    unknown = score({"account_id": "acct-404", "caption": "x"})
    assert (unknown.status_code, unknown.json()) == (
        404,
        {
            "error": "account_features_not_found",
            "detail": f"no features stored for account 'acct-404' in view '{ACCOUNTS}'; "
            "a new post is scored with its account's features",
        },
    )
    future = score({"account_id": "acct-9", "published_at": "2999-01-01T00:00:00Z"})
    assert (future.status_code, future.json()) == (
        422,
        {"error": "invalid_request", "detail": "published_at 2999-01-01T00:00:00+00:00 is after the current time"},
    )
    both = http.post(
        "/v1/score", json={"entity_id": "d", "features": {}, "post": {"account_id": "acct-9"}}, headers=_key("scorer")
    )
    assert (both.status_code, both.json()["detail"][0]["msg"]) == (
        422,
        "Value error, send either features or post, not both",
    )
    assert score({"account_id": "acct 9"}).status_code == 422


def test_admin_reload_over_http(config: Config, client: redis.Redis) -> None:
    versions = iter(["9", "10"])
    app = create_app(config, model=LinearModel("7"), model_loader=lambda: LinearModel(next(versions)))
    with serving(app) as url, httpx.Client(base_url=url, timeout=5) as http:
        forbidden = http.post("/v1/admin/reload-model", headers=_key("admin"))
        first = http.post("/v1/admin/reload-model", headers=_key("ops"))
        scored = http.post("/v1/score", json={"entity_id": "p1"}, headers=_key("scorer"))
        second = http.post("/v1/admin/reload-model", headers=_bearer("admin"))
    assert (forbidden.status_code, forbidden.json()["detail"]) == (403, "credential 'admin' lacks scope 'admin'")
    assert first.json() == {"model_name": "dip-engagement", "version": "9", "previous_version": "7", "changed": True}
    assert scored.json()["model_version"] == "9"
    assert second.json() == {"model_name": "dip-engagement", "version": "10", "previous_version": "9", "changed": True}


def _metric_lines(text: str) -> set[str]:
    return {line for line in text.splitlines() if line and not line.startswith("#")}


def test_metrics_count_routes_hits_misses_and_stale(config: Config, client: redis.Redis) -> None:
    route = "/v1/features/{view}/{entity_id}"
    with serving(create_app(config, model=_models())) as url, httpx.Client(base_url=url) as http:
        for entity_id in ("p1", "p2", "p404"):
            http.get(f"/v1/features/{POSTS}/{entity_id}", headers=_key("reader"))
        http.get(f"/v1/features/{POSTS}/p1")
        for method in ("BREW", "X-ANYTHING-1", "X-ANYTHING-2"):  # clients choose methods: they must not add series
            http.request(method, f"/v1/features/{POSTS}/p1")
        text = http.get("/metrics").text
    assert "# TYPE dip_serving_request_duration_seconds histogram" in text
    assert "# TYPE dip_serving_errors_total counter" in text
    lines = _metric_lines(text)
    assert {
        f'dip_serving_request_duration_seconds_count{{method="GET",route="{route}"}} 4.0',
        f'dip_serving_request_duration_seconds_bucket{{le="+Inf",method="GET",route="{route}"}} 4.0',
        f'dip_serving_requests_total{{method="GET",route="{route}",status="200"}} 2.0',
        f'dip_serving_requests_total{{method="GET",route="{route}",status="404"}} 1.0',
        f'dip_serving_requests_total{{method="GET",route="{route}",status="401"}} 1.0',
        f'dip_serving_feature_hits_total{{view="{POSTS}"}} 2.0',
        f'dip_serving_feature_misses_total{{view="{POSTS}"}} 1.0',
        f'dip_serving_stale_features_total{{view="{POSTS}"}} 1.0',
        f'dip_serving_requests_total{{method="other",route="{route}",status="405"}} 3.0',
    } <= lines
    assert not [line for line in lines if "BREW" in line or "X-ANYTHING" in line]


def test_redis_outage_is_503_and_not_ready(config: Config) -> None:
    down = config.model_copy(update={"redis": config.redis.model_copy(update={"port": 1})})
    with serving(create_app(down, model=_models())) as url, httpx.Client(base_url=url, timeout=5) as http:
        ready = http.get("/readyz")
        features = http.get(f"/v1/features/{POSTS}/p1", headers=_key("reader"))
        metrics = _metric_lines(http.get("/metrics").text)
    assert (ready.status_code, ready.json()) == (
        503,
        {"status": "not_ready", "checks": {"redis": "unreachable (ConnectionError)", "model": "ok"}},
    )
    assert (features.status_code, features.json()) == (
        503,
        {"error": "store_unavailable", "detail": "online store unreachable (ConnectionError)"},
    )
    assert 'dip_serving_errors_total{route="/v1/features/{view}/{entity_id}",status="503"} 1.0' in metrics


def test_not_ready_without_model_when_scoring_enabled(config: Config) -> None:
    with serving(create_app(config, model={"control": LinearModel("7")})) as url:
        ready = httpx.get(f"{url}/readyz")
    assert (ready.status_code, ready.json()["checks"]["model"]) == (503, "not loaded for variant(s) treatment")


def test_dip_serve_command(stack: Config, client: redis.Redis) -> None:
    """`dip serve` in its own process loads the same config (from DIP__* variables) and serves the seed."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    dip = Path(sys.executable).with_name("dip")
    process = subprocess.Popen(
        [str(dip), "serve", "--port", str(port)],
        env=_environ(stack),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 45  # it looks up the MLflow champion first: ~13 s on a loaded 2-core machine
        while True:
            assert process.poll() is None, process.stderr.read().decode() if process.stderr else "exited"
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/v1/features/{ACCOUNTS}/acct-9", headers=_key("admin"))
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "dip serve did not answer within 45 s"
                time.sleep(0.1)
        assert (response.status_code, response.json()["features"]) == (
            200,
            {"followers": 1500, "top_hashtags": "abaya modest"},
        )
        assert httpx.get(f"http://127.0.0.1:{port}/healthz").json() == {"status": "ok", "checks": {}}
    finally:
        process.terminate()
        process.wait(timeout=10)


class LiveAwareModel:
    """Declares the live view too: 0.5 * views (nightly view) + views_per_hour (post_live; absent: 0)."""

    name, version, views = "dip-live", "1", (POSTS, "post_live")

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        return 0.5 * float(features.get("views") or 0) + float(features.get("views_per_hour") or 0)  # type: ignore[arg-type]


def test_score_reads_the_live_view_a_model_declares(config: Config, client: redis.Redis) -> None:
    """A model declaring [scoring view, post_live] is scored on both records merged (the scoring view's `views`
    wins over post_live's `views`); a post without a live record is scored on its nightly features alone."""
    live = view_specs(config.online)["post_live"]
    now_ms = int(time.time() * 1000)
    row = {"entity_id": "p1", "_v": now_ms * 10**10, "_ts": now_ms, "_fsv": 1, "views": 999, "views_per_hour": 42.5}
    assert write_batch(client, [row], live).written == 1
    try:
        with (
            serving(create_app(config, model=LiveAwareModel())) as url,
            httpx.Client(base_url=url, timeout=5) as http,
        ):
            p1 = http.post("/v1/score", json={"entity_id": "p1"}, headers=_key("scorer"))
            p3 = http.post("/v1/score", json={"entity_id": "p3"}, headers=_key("scorer"))
        assert (p1.status_code, p1.json()["score"], p1.json()["stale"]) == (200, 0.5 * 120 + 42.5, False)
        assert (p3.status_code, p3.json()["score"]) == (200, 0.5 * 1)
    finally:
        client.delete("dip:post_live:p1")
