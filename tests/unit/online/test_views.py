"""Configured views become plain ViewSpec objects; bad names are rejected by config validation."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from dip.config import Config
from dip.config.models import OnlineConfig
from dip.online import ViewSpec, view_specs
from dip.online.views import live_view_specs, nightly_view_names


def test_base_config_declares_post_and_account_views(test_config: Config) -> None:
    specs = view_specs(test_config.online)
    assert list(specs) == ["post_features_daily", "account_features_daily", "post_live", "account_live"]
    post = specs["post_features_daily"]
    assert (post.entity, post.ttl_seconds) == ("post", 172800)
    assert post.features["caption_vec"] == "vector" and post.features["engagement_ratio_last"] == "float"
    assert specs["account_features_daily"].features["followers"] == "int"
    assert nightly_view_names(test_config.online) == ["post_features_daily", "account_features_daily"]
    assert [s.name for s in live_view_specs(test_config.online, "post")] == ["post_live"]
    assert [s.name for s in live_view_specs(test_config.online, "account")] == ["account_live"]
    assert specs["post_live"].features["likes_per_hour"] == "float"


def test_view_specs_keep_feature_order() -> None:
    online = OnlineConfig.model_validate(
        {"views": {"v1": {"entity": "post", "ttl_seconds": 60, "features": {"b": "int", "a": "vector"}}}}
    )
    assert view_specs(online) == {"v1": ViewSpec("v1", "post", {"b": "int", "a": "vector"}, 60)}
    assert list(view_specs(online)["v1"].features) == ["b", "a"]


@pytest.mark.parametrize(
    ("views", "message"),
    [
        ({"Bad-Name": {"entity": "post", "ttl_seconds": 60, "features": {"a": "int"}}}, "view name 'Bad-Name'"),
        ({"v": {"entity": "post", "ttl_seconds": 60, "features": {"_v": "int"}}}, "feature name '_v'"),
        ({"v": {"entity": "post", "ttl_seconds": 0, "features": {"a": "int"}}}, "greater than 0"),
        ({"v": {"entity": "post", "ttl_seconds": 60, "features": {"a": "decimal"}}}, "'int', 'float', 'str'"),
        ({"v": {"entity": "post", "ttl_seconds": 60, "features": {}}}, "at least 1 item"),
        (
            {"v": {"entity": "hashtag", "live": True, "ttl_seconds": 60, "features": {"a": "int"}}},
            "a live view's entity must be post or account, not 'hashtag'",
        ),
    ],
)
def test_invalid_views_are_rejected(views: dict, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        OnlineConfig.model_validate({"views": views})
