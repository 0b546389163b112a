"""Paging of both APIs over an in-memory transport: cursors followed, pages yielded, lookback stop."""

from __future__ import annotations

import json

import httpx

from dip.config import Config
from dip.connectors.base import FetchContext, StreamState
from dip.connectors.instagram import InstagramSource
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.tiktok import TikTokSource
from dip.io.secrets import EnvSecrets
from tests.unit.connectors.conftest import json_response

MEDIA = [
    {"id": "m1", "media_type": "IMAGE", "timestamp": "2026-11-20T10:00:00+0000", "like_count": 5},
    {"id": "m2", "media_type": "VIDEO", "timestamp": "2026-11-18T10:00:00+0000"},
    {"id": "m3", "media_type": "IMAGE", "timestamp": "2026-11-01T10:00:00+0000", "like_count": 7},
]


def instagram_handler(calls: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        path, q = request.url.path, request.url.params
        if path == "/v24.0/oauth/access_token":
            return json_response({"access_token": "LONG-LIVED-1", "token_type": "bearer", "expires_in": 5184000})
        if path == "/v24.0/ig1":
            return json_response({"username": "shop", "followers_count": 10, "media_count": 3, "id": "ig1"})
        if path == "/v24.0/ig1/media":
            start = {"": 0, "c2": 2}[q.get("after", "")]
            body = {"data": MEDIA[start : start + 2], "paging": {"cursors": {"before": "c0", "after": "c2"}}}
            if start == 0:
                body["paging"]["next"] = "http://ig.test/v24.0/ig1/media?after=c2&access_token=LONG-LIVED-1"
            return json_response(body)
        if path.endswith("/insights") and path != "/v24.0/ig1/insights":
            media_id = path.split("/")[2]
            return json_response(
                {
                    "data": [
                        {
                            "name": "reach",
                            "period": "lifetime",
                            "values": [{"value": 1}],
                            "id": f"{media_id}/insights/reach/lifetime",
                        }
                    ]
                }
            )
        if path == "/v24.0/ig1/insights":
            b = q["breakdown"]
            return json_response(
                {
                    "data": [
                        {
                            "name": "follower_demographics",
                            "period": "lifetime",
                            "id": "x",
                            "total_value": {"breakdowns": [{"dimension_keys": [b], "results": []}]},
                        }
                    ]
                }
            )
        return json_response({"error": {"code": 100, "message": "nope"}}, 400)

    return httpx.MockTransport(handle)


def test_instagram_follows_after_cursor_and_maps_every_entity(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    source = InstagramSource(unit_config, EnvSecrets(unit_config), ConnectorMetrics(), instagram_handler(calls))
    source.authenticate()
    ctx = FetchContext("ig1", {}, lookback_s=7 * 86400)
    pages, records = [], []
    for page in source.pages(ctx):
        pages.append((page.stream, page.cursor, page.done))
        records += [r.key for response in ctx.drain() for r in source.map_response(response)]
    assert pages == [("account", None, True), ("media", "c2", False), ("media", None, True), ("audience", None, True)]
    media_calls = [c for c in calls if c.url.path == "/v24.0/ig1/media"]
    assert [c.url.params.get("after") for c in media_calls] == [None, "c2"]
    assert all(c.url.params["access_token"] == "LONG-LIVED-1" for c in media_calls)
    assert records == [
        "instagram:account:ig1",
        "instagram:media:m1",
        "instagram:media:m2",
        "instagram:media_insights:m1",
        "instagram:media_insights:m2",
        "instagram:media:m3",
        "instagram:media_insights:m3",
        "instagram:audience:ig1:age",
        "instagram:audience:ig1:gender",
        "instagram:audience:ig1:country",
    ]


def test_instagram_stops_paging_at_lookback_and_resumes_from_saved_cursor(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    source = InstagramSource(unit_config, EnvSecrets(unit_config), ConnectorMetrics(), instagram_handler(calls))
    source.authenticate()
    hwm = 1795168800  # 2026-11-20T10:00:00Z; with 1 day lookback, m2 (2026-11-18) is older -> stop after page 1
    ctx = FetchContext("ig1", {"media": StreamState(hwm=hwm)}, lookback_s=86400)
    media_pages = [(p.cursor, p.done, p.max_ts) for p in source.pages(ctx) if p.stream == "media"]
    assert media_pages == [(None, True, hwm)]
    calls.clear()
    ctx = FetchContext("ig1", {"media": StreamState(cursor="c2")}, lookback_s=86400)
    assert [(p.cursor, p.done) for p in source.pages(ctx) if p.stream == "media"] == [(None, True)]
    assert [c.url.params.get("after") for c in calls if c.url.path == "/v24.0/ig1/media"] == ["c2"]


VIDEOS = [{"id": f"v{i}", "create_time": 1795600000 - i * 86400, "title": f"t{i}"} for i in range(5)]


def tiktok_transport(calls: list[httpx.Request]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        path = request.url.path
        if path == "/v2/oauth/token/":
            return json_response(
                {
                    "access_token": "act.1",
                    "expires_in": 86400,
                    "token_type": "Bearer",
                    "open_id": "open1",
                    "refresh_token": "refresh-open1",
                }
            )
        assert request.headers["authorization"] == "Bearer act.1"
        ok = {"code": "ok", "message": "", "log_id": "L"}
        if path == "/v2/user/info/":
            return json_response({"data": {"user": {"open_id": "open1", "follower_count": 3}}, "error": ok})
        body = json.loads(request.content)
        if path == "/v2/video/list/":
            cursor = body.get("cursor")
            rest = [v for v in VIDEOS if cursor is None or v["create_time"] * 1000 < cursor]
            page = rest[: body["max_count"]]
            return json_response(
                {
                    "data": {
                        "videos": page,
                        "cursor": page[-1]["create_time"] * 1000,
                        "has_more": len(rest) > len(page),
                    },
                    "error": ok,
                }
            )
        if path == "/v2/video/query/":
            ids = body["filters"]["video_ids"]
            return json_response({"data": {"videos": [{"id": i, "view_count": 100} for i in ids]}, "error": ok})
        return json_response({"data": {}, "error": {"code": "invalid_params", "message": "x", "log_id": "L"}}, 400)

    return httpx.MockTransport(handle)


def test_tiktok_pages_with_cursor_and_has_more_and_merges_metrics(unit_config: Config) -> None:
    from dip.connectors.pipeline import merge_records

    config = unit_config.model_copy(deep=True)
    config.connectors.tiktok.page_size = 2
    config.connectors.tiktok.accounts = ["open1"]
    calls: list[httpx.Request] = []
    source = TikTokSource(config, EnvSecrets(config), ConnectorMetrics(), tiktok_transport(calls))
    ctx = FetchContext("open1", {}, lookback_s=0)
    pages, payloads = [], []
    for page in source.pages(ctx):
        pages.append((page.stream, page.cursor, page.done))
        payloads += [r.payload for r in merge_records(r for resp in ctx.drain() for r in source.map_response(resp))]
    cursors = [json.loads(c.content).get("cursor") for c in calls if c.url.path == "/v2/video/list/"]
    assert cursors == [None, 1795513600000, 1795340800000]
    assert pages == [
        ("user", None, True),
        ("video", "1795513600000", False),
        ("video", "1795340800000", False),
        ("video", None, True),
    ]
    assert payloads[0] == {"open_id": "open1", "follower_count": 3}
    assert payloads[1] == {"id": "v0", "create_time": 1795600000, "title": "t0", "view_count": 100}
    assert [p["id"] for p in payloads[1:]] == ["v0", "v1", "v2", "v3", "v4"]
