"""The simulator's data is deterministic per seed, and its fault gate follows the configured counters."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from dip.connectors.clock import SimulatedClock
from dip_local.simulator import build_dataset, create_app
from dip_local.simulator.faults import Faults, parse_fault_flags


def test_same_seed_same_world_and_realistic_content() -> None:
    a, b = build_dataset(42), build_dataset(42)
    assert [p.caption for acc in a.instagram.values() for p in acc.posts] == [
        p.caption for acc in b.instagram.values() for p in acc.posts
    ]
    assert [p.caption for acc in build_dataset(1).instagram.values() for p in acc.posts] != [
        p.caption for acc in a.instagram.values() for p in acc.posts
    ]
    posts = [p for acc in a.instagram.values() for p in acc.posts]
    assert len(posts) == 30 and sum(p.hide_likes for p in posts) == 9
    assert all("#abaya #عباية #modestfashion" in p.caption for p in posts)


def test_metrics_grow_with_the_clock_and_likes_can_be_hidden() -> None:
    app = create_app(42)
    client = TestClient(app)
    token = _token(client)
    params = {"fields": "id,like_count,comments_count,timestamp", "access_token": token, "limit": 2}
    first = client.get("/v24.0/17841400000000101/media", params=params).json()["data"]
    assert first[1] == {
        "id": "18000000000001001",
        "comments_count": first[1]["comments_count"],
        "timestamp": "2026-11-24T21:00:00+0000",
    }
    assert first[0]["like_count"] == 0  # just published: nothing yet (views 0 too)
    assert client.post("/_sim/advance", json={"ticks": 2}).json() == {"tick": 2}
    later = client.get("/v24.0/17841400000000101/media", params=params).json()["data"]
    # seed 42, post 1000: 36,471 likes of 405,900 views in the end (decay 11.3 h) -> 5,989 after 2 h
    assert later[0]["like_count"] == 5989


def test_metrics_are_plausible() -> None:
    """Likes never exceed views; engagement ~1-10% (median ~4%); views saturate after publish; some posts go viral."""
    posts = [p for a in (*build_dataset(42).instagram.values(), *build_dataset(42).tiktok.values()) for p in a.posts]
    assert len(posts) == 60
    for post in posts:
        views = [post.metric("views", t) for t in (0, 1, 6, 24, 48, 168, 1000)]
        assert views[0] == 0 and views == sorted(views)
        assert all(post.metric("likes", t) <= post.metric("views", t) for t in (1, 6, 24, 48, 168))
        assert views[4] - views[3] < views[3]  # most of a post's views come in its first day
    rates = sorted(sum(p.metric(m, 48) for m in ("likes", "comments", "shares", "saved")) / p.metric("views", 48)
                   for p in posts)  # fmt: skip
    assert rates[0] > 0.01 and rates[-1] < 0.15 and 0.025 < rates[len(rates) // 2] < 0.06
    assert sum(0.01 <= r <= 0.1 for r in rates) >= 55
    views = sorted(p.metric("views", 168) for p in posts)
    assert views[-1] > 5 * views[len(views) // 2]  # viral outliers


def test_fault_gate_bursts_and_500s_follow_the_counters() -> None:
    app = create_app(42, Faults(rate_limit_every=3, rate_limit_burst=2, error_500_every=5, retry_after_s=2))
    client = TestClient(app)
    answers = [client.get("/v2/user/info/") for _ in range(8)]
    assert [r.status_code for r in answers] == [401, 401, 429, 429, 500, 429, 429, 401]
    assert answers[2].headers["retry-after"] == "2"
    assert answers[2].json()["error"]["code"] == "rate_limit_exceeded"
    graph = client.get("/v24.0/17841400000000101")  # request 9: third burst, Graph API code 32
    assert (graph.status_code, graph.json()["error"]["code"]) == (400, 32)
    assert parse_fault_flags(["rate_limit_every=5,malformed_pages=1", "slow_s=0.5"]) == Faults(
        rate_limit_every=5, malformed_pages=1, slow_s=0.5
    )


def _token(client: TestClient) -> str:
    return client.get(
        "/v24.0/oauth/access_token",
        params={
            "grant_type": "fb_exchange_token",
            "client_id": "dip-dev-app",
            "client_secret": "dev-ig-app-secret",
            "fb_exchange_token": "dev-ig-user-token",
        },
    ).json()["access_token"]


def test_a_clocked_world_lists_published_posts_and_grows_them_by_age() -> None:
    # seed 42, newest post 2026-11-25 18:00: account 101's posts at 18:00 (likes: 5,989 after 2 h) and
    # 2026-11-24 21:00 (likes hidden); its followers 85810 + 8/h from the first post (2026-11-06 14:00)
    wall = datetime(2030, 1, 1, tzinfo=UTC)
    clock = SimulatedClock(datetime(2026, 11, 25, 17, 30, tzinfo=UTC), wall=lambda: wall)
    app = create_app(42, newest_post=datetime(2026, 11, 25, 18, tzinfo=UTC), clock=clock)
    assert app.state.sim.dataset.epoch == datetime(2026, 11, 6, 14, tzinfo=UTC)
    client = TestClient(app)
    token = _token(client)
    params = {"fields": "id,like_count,comments_count", "access_token": token, "limit": 1}
    listed = client.get("/v24.0/17841400000000101/media", params=params).json()["data"]
    assert [m["id"] for m in listed] == ["18000000000001001"]  # the 18:00 post is not published yet
    account = client.get("/v24.0/17841400000000101", params={"fields": "followers_count", "access_token": token})
    assert account.json()["followers_count"] == 85810 + 8 * 459  # 2026-11-06 14:00 -> 11-25 17:30: 459 whole hours

    assert client.post("/_sim/advance", json={"ticks": 3}).json() == {"tick": 462}
    assert client.get("/_sim/state").json()["now"] == "2026-11-25T20:30:00+00:00"
    listed = client.get("/v24.0/17841400000000101/media", params=params).json()["data"]
    assert listed == [  # 2 whole hours after its publish (see test_metrics_grow_with_the_clock...)
        {"id": "18000000000001000", "like_count": 5989, "comments_count": listed[0]["comments_count"]}
    ]
    videos = client.post(
        "/v2/video/list/",
        params={"fields": "id"},
        headers={"Authorization": f"Bearer {_tiktok_token(client)}"},
        json={"max_count": 20},
    ).json()["data"]["videos"]
    assert [v["id"] for v in videos][:2] == ["7300000000000001000", "7300000000000001001"]


def _tiktok_token(client: TestClient) -> str:
    form = {
        "client_key": "dip-dev-client",
        "client_secret": "dev-tt-client-secret",
        "grant_type": "refresh_token",
        "refresh_token": "dev-refresh-_000LinaAbayasOpenId",
    }
    return client.post("/v2/oauth/token/", data=form).json()["access_token"]


def test_without_a_clock_every_post_is_listed_and_advance_moves_the_tick() -> None:
    app = create_app(42)
    state = app.state.sim
    assert (state.now(), state.advance(4), state.post_tick(state.dataset.instagram["17841400000000101"].posts[0])) == (
        None,
        4,
        4,
    )
    assert len(state.visible(state.dataset.tiktok["_000LinaAbayasOpenId"].posts)) == 10
