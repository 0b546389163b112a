"""Features of a post the pipeline has not seen: its caption/hashtag features plus its account's online features.

Caption and hashtag features come from :mod:`dip.features.caption` (the batch pipeline's definitions); metric
window features (deltas, ratios, snapshot counts) do not exist before the first snapshot and stay absent, so
the model sees them as NaN, as it does for any missing feature.
"""

from __future__ import annotations

from datetime import datetime

from dip.config.models import FeatureTextConfig
from dip.features.caption import caption_features, extract_hashtags, normalise_hashtags
from dip.online.codec import FeatureValue, OnlineRecord
from dip.serving.schemas import NewPost


def new_post_features(
    post: NewPost, account: OnlineRecord, text: FeatureTextConfig, now: datetime
) -> dict[str, FeatureValue]:
    """The account's features overlaid with the post's caption features and ``hours_since_publish``.

    Raises ValueError for a ``published_at`` after ``now`` (a post cannot be that old yet).
    """
    tags = normalise_hashtags(post.hashtags) if post.hashtags is not None else extract_hashtags(post.caption)
    features: dict[str, FeatureValue] = dict(account.features)
    features.update(
        caption_features(
            post.caption,
            tags,
            vector_size=text.vector_size,
            token_pattern=text.token_pattern,
            min_token_length=text.min_token_length,
        )
    )
    if post.published_at is not None:
        hours = (now - post.published_at).total_seconds() / 3600
        if hours < 0:
            raise ValueError(f"published_at {post.published_at.isoformat()} is after the current time")
        features["hours_since_publish"] = hours
    return features
