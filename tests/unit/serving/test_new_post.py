"""Featurising a new post: caption/hashtag features over its account's online features, request validation."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from dip.config.models import FeatureTextConfig
from dip.online import OnlineRecord
from dip.serving.new_post import new_post_features
from dip.serving.schemas import NewPost, ScoreRequest

ACCOUNT = OnlineRecord("acct-1", 7, 1_700_000_000_000, 2, {"followers": 1500, "hashtag_count": 99, "best_hour": 20})
NOW = datetime(2026, 11, 26, 13, 30, tzinfo=UTC)


def test_caption_hashtags_extracted_and_account_features_kept() -> None:
    post = NewPost(account_id="acct-1", caption="Black abaya عباية #Abaya #modest", published_at="2026-11-26T10:00Z")
    features = new_post_features(post, ACCOUNT, FeatureTextConfig(vector_size=8), NOW)
    vec = features.pop("caption_vec")
    assert features == {
        "followers": 1500,
        "best_hour": 20,
        "hashtag_count": 2,  # the post's, not the account's field of the same name
        "is_arabic": True,
        "is_latin": True,
        "hours_since_publish": 3.5,
    }
    # tokens: black, abaya, عباية, abaya, modest
    assert (len(vec), sum(vec), max(vec)) == (8, 5.0, 2.0)


def test_sent_hashtags_win_and_no_publish_time_leaves_hours_absent() -> None:
    post = NewPost(account_id="acct-1", caption="سوداء", hashtags=["#Abaya", "abaya", "عباية"])
    features = new_post_features(post, ACCOUNT, FeatureTextConfig(vector_size=4), NOW)
    assert (features["hashtag_count"], features["is_arabic"], features["is_latin"]) == (2, True, False)
    assert "hours_since_publish" not in features and sum(features["caption_vec"]) == 1.0


def test_publish_time_in_the_future_is_refused() -> None:
    post = NewPost(account_id="acct-1", published_at="2026-11-26T14:00:00+00:00")
    with pytest.raises(ValueError, match=r"published_at 2026-11-26T14:00:00\+00:00 is after the current time"):
        new_post_features(post, ACCOUNT, FeatureTextConfig(), NOW)


@pytest.mark.parametrize(
    "body",
    [
        {"entity_id": "p1", "features": {"a": 1}, "post": {"account_id": "acct-1"}},  # both sources
        {"entity_id": "p1", "post": {"account_id": "bad id"}},
        {"entity_id": "p1", "post": {"account_id": "acct-1", "hashtags": ["two words"]}},
        {"entity_id": "p1", "post": {"account_id": "acct-1", "published_at": "2026-11-26T10:00:00"}},  # naive
        {"entity_id": "p1", "post": {"account_id": "acct-1", "caption": "x" * 5001}},
    ],
)
def test_invalid_score_requests(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        ScoreRequest.model_validate(body)
