"""stream_live's pure parts: the live version order, the configured live views, the CLI's failure line."""

from __future__ import annotations

import pytest

from dip.commands.streaming import live_failure
from dip.config import Config
from dip.config.models import OnlineViewConfig
from dip.features.live_job import LiveError, live_version, live_views


def test_live_versions_order_by_snapshot_time_then_silver_version() -> None:
    assert live_version(1_795_000_000_000, 7) == 17_950_000_000_000_000_000_007
    newer_snapshot = live_version(1_795_000_000_001, 0)
    same_snapshot_later_version = live_version(1_795_000_000_000, 8)
    assert live_version(1_795_000_000_000, 7) < same_snapshot_later_version < newer_snapshot
    # the store compares versions as decimal strings: length first, then lexically, like these ints
    assert len(str(newer_snapshot)) == len(str(same_snapshot_later_version))
    with pytest.raises(LiveError, match="silver commit version 10000000000 does not fit"):
        live_version(1_795_000_000_000, 10**10)


def test_live_views_by_entity(test_config: Config) -> None:
    views = live_views(test_config)
    assert {entity: [v.name for v in specs] for entity, specs in views.items()} == {
        "post": ["post_live"],
        "account": ["account_live"],
    }


def test_a_live_view_with_a_feature_the_live_path_does_not_compute_is_refused(test_config: Config) -> None:
    config = test_config.model_copy(deep=True)
    config.online.views["post_live"] = OnlineViewConfig(
        entity="post", live=True, ttl_seconds=60, features={"views": "int", "caption_vec": "vector"}
    )
    with pytest.raises(LiveError, match=r"live view post_live: unknown feature\(s\) caption_vec; a live post view can"):
        live_views(config)


def test_the_cli_shows_the_live_error_line_of_a_failed_query() -> None:
    wrapped = (
        "[STREAM_FAILED] Query [id = 1, runId = 2] terminated with exception: An exception was raised by the "
        "Python Proxy. Return Message: Traceback (most recent call last):\n"
        '  File "live_job.py", line 180, in process_live_batch\n'
        "dip.features.live_job.LiveError: stream_live batch 3: writing post_live to Redis 127.0.0.1:6379 failed: "
        "redis.exceptions.ConnectionError: Error 111. The batch is not committed\n"
    )
    assert live_failure(Exception(wrapped)) == (
        "stream_live batch 3: writing post_live to Redis 127.0.0.1:6379 failed: redis.exceptions.ConnectionError: "
        "Error 111. The batch is not committed"
    )
    assert live_failure(LiveError("no live views configured")) == "no live views configured"
