"""stream_live against real Spark (Delta Change Data Feed) and a real Redis: exact live values for a hand-made
sequence of silver snapshots, out-of-order and same-run updates, a crash between the writes and the checkpoint,
and a Redis outage the query reports and catches up from."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import redis
from pyspark.sql import SparkSession

from dip.config import Config
from dip.features.live_job import LiveError, live_version, run_stream_live, start_stream_live
from dip.online import make_client, read_many, view_specs
from dip.online.live_state import read_live_states
from dip.silver import normalize as N
from dip.silver.merge import SPECS, merge_into
from dip.streaming.runner import CRASH_AFTER_BATCH_ENV, CRASH_EXIT_CODE, await_queries
from dip.tables import SILVER_ACCOUNT_METRICS, SILVER_POST_METRICS, SILVER_POSTS
from tests.integration.helpers import isolated_config

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DB = 10  # the live tests' own Redis db: every dip:* key in it is theirs
P1, P2, ACC = "17841400000000901", "17841400000000902", "17841400000000990"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


@pytest.fixture()
def config(stack: Config, tmp_path: Path) -> Iterator[Config]:
    config = isolated_config(stack, tmp_path)
    config.redis.db = DB
    client = make_client(config.redis)
    client.flushdb()
    yield config
    client.flushdb()
    client.close()


def _metrics(spark: SparkSession, config: Config, rows: list[tuple]) -> None:
    """Merge post_metrics rows (post, run, captured_at, views, likes, comments, saves) the way silver does."""
    full = [
        (post, "instagram", ACC, run, at, views, likes, comments, 1, saves, views, None)
        for post, run, at, views, likes, comments, saves in rows
    ]
    merge_into(
        spark, spark.createDataFrame(full, N.POST_METRICS_DDL), SILVER_POST_METRICS.path(config), SPECS["post_metrics"]
    )


def _accounts(spark: SparkSession, config: Config, rows: list[tuple]) -> None:
    full = [(ACC, "instagram", run, at, followers, media) for run, at, followers, media in rows]
    merge_into(
        spark, spark.createDataFrame(full, N.ACCOUNT_METRICS_DDL), SILVER_ACCOUNT_METRICS.path(config),
        SPECS["account_metrics"],
    )  # fmt: skip


def _posts(spark: SparkSession, config: Config) -> None:
    published = utc(2026, 11, 20, 6)
    rows = [(post, "instagram", ACC, "عباية", [], [], "IMAGE", None, published, published) for post in (P1, P2)]
    merge_into(spark, spark.createDataFrame(rows, N.POSTS_DDL), SILVER_POSTS.path(config), SPECS["posts"])


def _live(spark: SparkSession, config: Config) -> dict[str, tuple[int, int, int]]:
    """Run stream_live to the end; (changes, written, skipped_stale) per query."""
    summaries = run_stream_live(spark, config, "available-now")
    return {s.query: (s.total("changes"), s.total("written"), s.total("skipped_stale")) for s in summaries}


def _stored(config: Config) -> dict:
    client = make_client(config.redis)
    try:
        specs = view_specs(config.online)
        posts = read_many(client, specs["post_live"], [P1, P2])
        account = read_many(client, specs["account_live"], [ACC])
        return {"posts": posts, "account": account}
    finally:
        client.close()


def test_live_views_hold_the_newest_snapshot_and_its_velocity(spark: SparkSession, config: Config) -> None:
    _posts(spark, config)
    t10, t12, t11 = utc(2026, 11, 20, 10), utc(2026, 11, 20, 12), utc(2026, 11, 20, 11)
    _metrics(spark, config, [(P1, "r1", t10, 100, 10, 2, 0), (P2, "r1", t10, 50, None, 1, 0)])
    _accounts(spark, config, [("r1", t10, 1000, 40)])
    assert _live(spark, config) == {"stream_live_posts": (2, 2, 0), "stream_live_accounts": (1, 1, 0)}
    first = _stored(config)
    p1 = first["posts"][0]
    assert (p1.event_ts_ms, p1.feature_set_version) == (ms(t10), config.features.feature_set_version)
    assert p1.features == {
        "views": 100, "likes": 10, "comments": 2, "shares": 1, "saves": 0, "reach": 100, "engagement_ratio": 0.13,
        "views_per_hour": None, "likes_per_hour": None, "comments_per_hour": None, "hours_since_publish": 4.0,
        "hours_since_previous": None,
    }  # fmt: skip

    # a second snapshot: rates per hour over the two hours between them; hidden likes stay null
    _metrics(spark, config, [(P1, "r2", t12, 160, 16, 3, 0), (P2, "r2", t12, 80, None, 3, 2)])
    _accounts(spark, config, [("r2", t12, 1030, 41)])
    assert _live(spark, config) == {"stream_live_posts": (2, 2, 0), "stream_live_accounts": (1, 1, 0)}
    second = _stored(config)
    p1, p2 = second["posts"]
    assert p1.event_ts_ms == ms(t12)
    assert {k: p1.features[k] for k in ("views", "views_per_hour", "likes_per_hour", "comments_per_hour")} == {
        "views": 160, "views_per_hour": 30.0, "likes_per_hour": 3.0, "comments_per_hour": 0.5,
    }  # fmt: skip
    assert (p1.features["hours_since_publish"], p1.features["hours_since_previous"]) == (6.0, 2.0)
    assert (p2.features["likes"], p2.features["likes_per_hour"], p2.features["views_per_hour"]) == (None, None, 15.0)
    assert p2.features["engagement_ratio"] == (3 + 1 + 2) / 80
    assert second["account"][0].features == {
        "followers": 1030, "media_count": 41, "followers_per_hour": 15.0, "follower_change": 30,
        "hours_since_previous": 2.0,
    }  # fmt: skip

    # a late, older snapshot (11:00) arrives after the 12:00 one: the 12:00 snapshot stays served, its rates are
    # now measured against 11:00 (the snapshot just before it)
    _metrics(spark, config, [(P1, "r0", t11, 154, 15, 3, 0)])
    assert _live(spark, config) == {"stream_live_posts": (1, 1, 0), "stream_live_accounts": (0, 0, 0)}
    late = _stored(config)["posts"][0]
    assert (late.event_ts_ms, late.features["views"], late.features["views_per_hour"]) == (ms(t12), 160, 6.0)
    assert late.version > p1.version

    # another record of the same run (r2) fills in saves: the same snapshot, a newer silver version -> rewritten
    _metrics(spark, config, [(P1, "r2", t12, None, None, None, 5)])
    assert _live(spark, config)["stream_live_posts"] == (1, 1, 0)
    filled = _stored(config)["posts"][0]
    assert (filled.event_ts_ms, filled.features["saves"], filled.features["views"]) == (ms(t12), 5, 160)

    # a write of an older snapshot (a replay of an old batch) never replaces the stored newer one
    client = make_client(config.redis)
    try:
        from dip.online import write_batch

        spec = view_specs(config.online)["post_live"]
        old = {"entity_id": P1, "_v": live_version(ms(t10), 99), "_ts": ms(t10), "_fsv": 1, "views": 1}
        assert (write_batch(client, [old], spec).written, write_batch(client, [old], spec).skipped_stale) == (0, 1)
        state = read_live_states(client, ["post_live", "account_live"])
    finally:
        client.close()
    assert _stored(config)["posts"][0] == filled
    assert state[0] is not None and state[0].newest_event_ms == ms(t12) and state[0].written == 1
    assert state[1] is not None and state[1].newest_event_ms == ms(t12)


def _dip(config: Config, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "DIP_ENV": "local",
        "DIP__LAKE__ROOT": config.lake.root,
        "DIP__REDIS__DB": str(config.redis.db),
        "DIP__REDIS__PORT": str(config.redis.port),
        "DIP__STREAMING__APP_ID": config.streaming.app_id,
        **(env or {}),
    }
    dip = str(Path(sys.executable).with_name("dip"))
    return subprocess.run([dip, *args], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=600)


def test_a_crash_between_writes_and_checkpoint_leaves_the_same_redis_state(spark: SparkSession, config: Config) -> None:
    """`dip stream live` ends (exit 86, like kill -9) right after batch 0's Redis writes and before its checkpoint;
    the restart redoes batch 0 (every write skipped as an equal version) and Redis is what one clean run writes."""
    _posts(spark, config)
    _metrics(
        spark,
        config,
        [(P1, "r1", utc(2026, 11, 20, 10), 100, 10, 2, 0), (P2, "r1", utc(2026, 11, 20, 10), 50, None, 1, 0)],
    )
    _metrics(spark, config, [(P1, "r2", utc(2026, 11, 20, 12), 160, 16, 3, 0)])
    _accounts(spark, config, [("r1", utc(2026, 11, 20, 10), 1000, 40)])
    crashed = _dip(
        config, "stream", "live", "--trigger", "available-now", env={CRASH_AFTER_BATCH_ENV: "stream_live_posts:0"}
    )
    assert crashed.returncode == CRASH_EXIT_CODE, crashed.stdout + crashed.stderr
    after_crash = _stored(config)
    assert [r.features["views"] for r in after_crash["posts"]] == [160, 50]
    restarted = _dip(config, "stream", "live", "--trigger", "available-now")
    assert restarted.returncode == 0, restarted.stdout + restarted.stderr
    assert "stream_live_posts batch 0: changes=3, written=0, skipped_stale=2" in restarted.stdout
    assert _stored(config) == after_crash

    # a clean run from scratch (new checkpoints, empty Redis) writes exactly the same hashes
    client = make_client(config.redis)
    client.flushdb()
    client.close()
    shutil.rmtree(Path(config.lake.root.removeprefix("file://")) / config.streaming.checkpoint_dir)
    assert _live(spark, config)["stream_live_posts"] == (3, 2, 0)
    assert _stored(config) == after_crash


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _redis_server(port: int) -> subprocess.Popen:
    binary = shutil.which("redis-server") or "/usr/bin/redis-server"
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--save", "", "--appendonly", "no"], stdout=subprocess.DEVNULL
    )
    client = redis.Redis(port=port)
    for _ in range(100):
        try:
            client.ping()
            return proc
        except redis.ConnectionError:
            time.sleep(0.05)
    raise RuntimeError("redis-server did not start")


def test_redis_down_fails_clearly_and_the_restart_catches_up(spark: SparkSession, config: Config) -> None:
    port = _free_port()
    config.redis.port = port
    config.redis.db = 0
    _posts(spark, config)
    _metrics(spark, config, [(P1, "r1", utc(2026, 11, 20, 10), 100, 10, 2, 0)])
    with pytest.raises(LiveError, match=rf"Redis 127\.0\.0\.1:{port} is unreachable .*resumes from its checkpoint"):
        run_stream_live(spark, config, "available-now")
    server = _redis_server(port)
    try:
        # a long-running query: Redis goes away after its first batch, the next batch fails the query
        running = start_stream_live(spark, config, "processing-time=1 second")
        posts = next(r for r in running if r.summary.query == "stream_live_posts")
        deadline = time.monotonic() + 300
        while not posts.summary.batches and time.monotonic() < deadline:
            time.sleep(0.5)
        assert [(b.batch_id, b.counts["written"]) for b in posts.summary.batches] == [(0, 1)]
        server.terminate()
        server.wait(10)
        _metrics(spark, config, [(P1, "r2", utc(2026, 11, 20, 12), 160, 16, 3, 0)])
        with pytest.raises(Exception, match=rf"stream_live batch 1: writing post_live to Redis 127\.0\.0\.1:{port} "
                           r"failed: .*Connection.*The batch is not committed"):  # fmt: skip
            await_queries(running)
        server = _redis_server(port)  # back, empty (no persistence): the restart redoes batch 1
        assert _live(spark, config)["stream_live_posts"] == (1, 1, 0)
        p1 = _stored(config)["posts"][0]
        assert (p1.event_ts_ms, p1.features["views"], p1.features["views_per_hour"]) == (
            ms(utc(2026, 11, 20, 12)),
            160,
            30.0,
        )
    finally:
        server.terminate()
        server.wait(10)
