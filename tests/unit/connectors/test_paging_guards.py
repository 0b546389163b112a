"""Paging that cannot run away or get stuck, and items refused for good that do not stop an account."""

from __future__ import annotations

import json

import httpx

from dip.config import Config
from dip.connectors.base import FetchContext, Skipped, StreamState
from dip.connectors.instagram import InstagramSource
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.tiktok import TikTokSource
from dip.io.secrets import EnvSecrets
from tests.unit.connectors.conftest import json_response
from tests.unit.connectors.test_pagination import instagram_handler, tiktok_transport

CODE_10 = "Graph API error 10/None (OAuthException): (#10) Not enough viewers for the media to show insights"


def _tiktok(unit_config: Config, transport: httpx.BaseTransport, page_size: int = 2) -> TikTokSource:
    config = unit_config.model_copy(deep=True)
    config.connectors.tiktok.page_size = page_size
    return TikTokSource(config, EnvSecrets(config), ConnectorMetrics(), transport)


def _video_list_cursors(calls: list[httpx.Request]) -> list[int | None]:
    return [json.loads(c.content).get("cursor") for c in calls if c.url.path == "/v2/video/list/"]


def test_a_cursor_returned_twice_ends_the_stream_with_a_warning(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    inner = tiktok_transport(calls)

    def stuck(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/video/list/":
            calls.append(request)
            videos = [{"id": "v0", "create_time": 1795600000}]
            return json_response({"data": {"videos": videos, "cursor": 1795000000000, "has_more": True}})
        return inner.handle_request(request)

    source = _tiktok(unit_config, httpx.MockTransport(stuck))
    ctx = FetchContext("open1", {}, lookback_s=0)
    pages = [(p.stream, p.cursor, p.done) for p in source.pages(ctx)]
    assert pages == [("user", None, True), ("video", "1795000000000", False), ("video", None, True)]
    assert _video_list_cursors(calls) == [None, 1795000000000]
    assert ctx.warnings == [
        (
            "video",
            "repeated_cursor",
            "video: the API returned cursor '1795000000000' a second time after 2 pages; paging stopped"
            " (the next run starts from the newest item)",
        )
    ]


def test_the_page_cap_stops_with_the_cursor_saved_and_the_next_run_resumes(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    source = _tiktok(unit_config, tiktok_transport(calls), page_size=1)
    ctx = FetchContext("open1", {}, lookback_s=0, max_pages=2)
    pages = [(p.stream, p.cursor, p.done) for p in source.pages(ctx)]
    assert pages == [("user", None, True), ("video", "1795600000000", False), ("video", "1795513600000", False)]
    assert [w[1] for w in ctx.warnings] == ["page_cap"]
    calls.clear()
    resumed = FetchContext("open1", {"video": StreamState(cursor="1795513600000")}, lookback_s=0, max_pages=10)
    assert [p.cursor for p in source.pages(resumed) if p.stream == "video"] == ["1795427200000", "1795340800000", None]
    assert _video_list_cursors(calls)[0] == 1795513600000 and resumed.warnings == []


def test_an_unreadable_saved_cursor_is_reset_with_a_warning(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    source = _tiktok(unit_config, tiktok_transport(calls), page_size=5)
    ctx = FetchContext("open1", {"video": StreamState(cursor="not-a-number")}, lookback_s=0)
    assert [p.cursor for p in source.pages(ctx) if p.stream == "video"] == [None]
    assert _video_list_cursors(calls) == [None]
    assert ctx.warnings == [
        ("video", "cursor_reset", "video: saved cursor 'not-a-number' is not a number; paging from the newest")
    ]


def test_a_saved_cursor_the_api_refuses_is_reset_once(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    inner = tiktok_transport(calls)

    def refuse_old(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v2/video/list/" and json.loads(request.content).get("cursor") == 42:
            calls.append(request)
            error = {"code": "invalid_params", "message": "cursor is invalid", "log_id": "L9"}
            return json_response({"data": {}, "error": error}, 400)
        return inner.handle_request(request)

    source = _tiktok(unit_config, httpx.MockTransport(refuse_old), page_size=5)
    ctx = FetchContext("open1", {"video": StreamState(cursor="42")}, lookback_s=0)
    assert [(p.cursor, p.done) for p in source.pages(ctx) if p.stream == "video"] == [(None, True)]
    assert _video_list_cursors(calls) == [42, None]
    assert [(w[0], w[1]) for w in ctx.warnings] == [("video", "cursor_reset")]
    assert "cursor is invalid" in ctx.warnings[0][2]


def _refusing_insights(calls: list[httpx.Request], refused: set[str]) -> httpx.MockTransport:
    inner = instagram_handler(calls)

    def handle(request: httpx.Request) -> httpx.Response:
        parts = request.url.path.split("/")
        if len(parts) == 4 and parts[3] == "insights" and parts[2] in refused:
            calls.append(request)
            error = {"message": "(#10) Not enough viewers for the media to show insights", "type": "OAuthException"}
            return json_response({"error": error | {"code": 10, "fbtrace_id": "AbC"}}, 400)
        return inner.handle_request(request)

    return httpx.MockTransport(handle)


def test_refused_insights_are_skipped_then_asked_again_by_later_runs(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    refused = {"m3"}
    source = InstagramSource(
        unit_config, EnvSecrets(unit_config), ConnectorMetrics(), _refusing_insights(calls, refused)
    )
    source.authenticate()
    retry: dict[str, int] = {}
    ctx = FetchContext("ig1", {}, lookback_s=7 * 86400, retry=retry, retry_runs=3)
    keys = []
    for _ in source.pages(ctx):
        keys += [r.key for resp in ctx.drain() for r in source.map_response(resp)]
    assert "instagram:media:m3" in keys and "instagram:media_insights:m3" not in keys
    assert [k for k in keys if ":media_insights:" in k] == [
        "instagram:media_insights:m1",
        "instagram:media_insights:m2",
    ]
    assert ctx.skipped == [Skipped("media_insights", "m3", "10", f"{CODE_10} [fbtrace_id=AbC]")]
    assert retry == {"media_insights:m3": 1}

    # a later run pages only the newest media (lookback), yet asks for m3's (2026-11-01) insights again: refused again
    hwm = 1795168800
    again = FetchContext("ig1", {"media": StreamState(hwm=hwm)}, lookback_s=86400, retry=retry, retry_runs=3)
    assert [p.stream for p in source.pages(again)] == ["account", "media", "media_insights", "audience"]
    assert retry == {"media_insights:m3": 2} and [s.item_id for s in again.skipped] == ["m3"]

    # now it has enough viewers: fetched, and no longer retried
    refused.clear()
    third = FetchContext("ig1", {"media": StreamState(hwm=hwm)}, lookback_s=86400, retry=retry, retry_runs=3)
    keys = []
    for _ in source.pages(third):
        keys += [r.key for resp in third.drain() for r in source.map_response(resp)]
    assert "instagram:media_insights:m3" in keys and retry == {} and third.skipped == []


def test_an_item_refused_by_every_retry_run_is_given_up_with_a_warning(unit_config: Config) -> None:
    calls: list[httpx.Request] = []
    source = InstagramSource(
        unit_config, EnvSecrets(unit_config), ConnectorMetrics(), _refusing_insights(calls, {"m3"})
    )
    source.authenticate()
    retry = {"media_insights:m3": 1}
    ctx = FetchContext("ig1", {"media": StreamState(hwm=1795168800)}, lookback_s=86400, retry=retry, retry_runs=2)
    list(source.pages(ctx))
    assert retry == {}
    assert ctx.warnings == [("media_insights", "gave_up", "media_insights:m3: refused by 2 runs, not asked again")]
