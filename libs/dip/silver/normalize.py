"""Pure transforms from parsed bronze payloads to the silver tables; both platforms share one schema.

Every output row keeps ``_record_key`` (the bronze row it came from) for the stage ledger.
Definitions: ``engagement_ratio = (likes + comments + shares + saves) / views`` over the counts the
platform reported (a hidden/absent count is unknown and is left out of the sum, never taken as 0);
it is null when views is null or 0, or when no interaction count is known.
"""

from __future__ import annotations

from functools import partial

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

HASHTAG_PATTERN = r"(?U)#(\w+)"
MENTION_PATTERN = r"(?U)@(\w+(?:\.\w+)*)"  # dots only inside a name: "@brand." -> "brand"
IG_TIMESTAMP_FORMAT = "yyyy-MM-dd'T'HH:mm:ssZ"

POSTS_DDL = (
    "post_id STRING, source STRING, account_id STRING, caption STRING, hashtags ARRAY<STRING>, "
    "mentions ARRAY<STRING>, media_type STRING, permalink STRING, created_at TIMESTAMP, updated_at TIMESTAMP"
)
# one caption snapshot per post and ingest run: features use the caption as it was at a window's time
POST_CAPTIONS_DDL = (
    "post_id STRING, source STRING, account_id STRING, run_id STRING, captured_at TIMESTAMP, caption STRING, "
    "hashtags ARRAY<STRING>"
)
POST_METRICS_DDL = (
    "post_id STRING, source STRING, account_id STRING, run_id STRING, captured_at TIMESTAMP, views BIGINT, "
    "likes BIGINT, comments BIGINT, shares BIGINT, saves BIGINT, reach BIGINT, engagement_ratio DOUBLE"
)
ACCOUNTS_DDL = "account_id STRING, source STRING, username STRING, updated_at TIMESTAMP"
ACCOUNT_METRICS_DDL = (
    "account_id STRING, source STRING, run_id STRING, captured_at TIMESTAMP, followers BIGINT, media_count BIGINT"
)
AUDIENCE_DDL = (
    "account_id STRING, source STRING, run_id STRING, captured_at TIMESTAMP, breakdown STRING, "
    "dimension_value STRING, value BIGINT"
)
PREDICTIONS_DDL = (
    "request_id STRING, source STRING, entity_id STRING, view STRING, feature_set_version BIGINT, "
    "model_name STRING, model_version STRING, variant STRING, score DOUBLE, scored_at TIMESTAMP"
)


def hashtags(caption: Column) -> Column:
    """Lower-cased, de-duplicated hashtags in order of appearance; Unicode-aware (Arabic survives)."""
    return F.array_distinct(F.transform(F.regexp_extract_all(caption, F.lit(HASHTAG_PATTERN), 1), F.lower))


def mentions(caption: Column) -> Column:
    """Lower-cased, de-duplicated @mentions."""
    return F.array_distinct(F.transform(F.regexp_extract_all(caption, F.lit(MENTION_PATTERN), 1), F.lower))


def engagement_ratio(likes: Column, comments: Column, shares: Column, saves: Column, views: Column) -> Column:
    """See the module docstring for the definition and its null/zero rules."""
    parts = [likes, comments, shares, saves]
    known = F.greatest(*[c.isNotNull().cast("int") for c in parts])
    total = sum((F.coalesce(c, F.lit(0)) for c in parts[1:]), F.coalesce(parts[0], F.lit(0)))
    return F.when((views > 0) & (known == 1), total.cast("double") / views)


def _base(df: DataFrame) -> list[Column]:
    return [F.col("_record_key"), F.col("source"), F.col("account_id"), F.col("run_id"), F.col("fetched_at")]


def _null(ddl_type: str) -> Column:
    return F.lit(None).cast(ddl_type)


def instagram_posts(media: DataFrame) -> DataFrame:
    """Instagram media objects -> posts; ISO ``+0000`` timestamps -> UTC TIMESTAMP; caption untouched."""
    return media.select(
        "_record_key",
        F.col("p.id").alias("post_id"),
        "source",
        "account_id",
        F.col("p.caption").alias("caption"),
        hashtags(F.coalesce(F.col("p.caption"), F.lit(""))).alias("hashtags"),
        mentions(F.coalesce(F.col("p.caption"), F.lit(""))).alias("mentions"),
        F.col("p.media_type").alias("media_type"),
        F.col("p.permalink").alias("permalink"),
        F.try_to_timestamp(F.col("p.timestamp"), F.lit(IG_TIMESTAMP_FORMAT)).alias("created_at"),
        F.col("fetched_at").alias("updated_at"),
    )


def tiktok_caption() -> Column:
    """A TikTok video's caption: its description, else its title."""
    return F.coalesce(F.col("p.video_description"), F.col("p.title"))


def caption_snapshots(df: DataFrame, caption: Column) -> DataFrame:
    """One caption snapshot per fetched post: the caption (and its hashtags) as it was at ``fetched_at``."""
    return df.select(
        "_record_key",
        F.col("p.id").alias("post_id"),
        "source",
        "account_id",
        "run_id",
        F.col("fetched_at").alias("captured_at"),
        caption.alias("caption"),
        hashtags(F.coalesce(caption, F.lit(""))).alias("hashtags"),
    )


def instagram_post_captions(media: DataFrame) -> DataFrame:
    return caption_snapshots(media, F.col("p.caption"))


def tiktok_post_captions(videos: DataFrame) -> DataFrame:
    return caption_snapshots(videos, tiktok_caption())


def tiktok_posts(videos: DataFrame) -> DataFrame:
    """TikTok videos -> posts; ``create_time`` epoch seconds -> UTC TIMESTAMP."""
    caption = tiktok_caption()
    return videos.select(
        "_record_key",
        F.col("p.id").alias("post_id"),
        "source",
        "account_id",
        caption.alias("caption"),
        hashtags(F.coalesce(caption, F.lit(""))).alias("hashtags"),
        mentions(F.coalesce(caption, F.lit(""))).alias("mentions"),
        F.lit("VIDEO").alias("media_type"),
        F.col("p.share_url").alias("permalink"),
        F.timestamp_seconds(F.col("p.create_time")).alias("created_at"),
        F.col("fetched_at").alias("updated_at"),
    )


def _metrics(
    df: DataFrame,
    post_id: Column,
    views: Column,
    likes: Column,
    comments: Column,
    shares: Column,
    saves: Column,
    reach: Column,
) -> DataFrame:
    cols = {"views": views, "likes": likes, "comments": comments, "shares": shares, "saves": saves, "reach": reach}
    typed = {k: v.cast("bigint") for k, v in cols.items()}
    return df.select(
        "_record_key",
        post_id.alias("post_id"),
        "source",
        "account_id",
        "run_id",
        F.col("fetched_at").alias("captured_at"),
        *[c.alias(k) for k, c in typed.items()],
        engagement_ratio(typed["likes"], typed["comments"], typed["shares"], typed["saves"], typed["views"]).alias(
            "engagement_ratio"
        ),
    )


def instagram_media_metrics(media: DataFrame) -> DataFrame:
    """Like and comment counts from the media list (likes stay null when hidden)."""
    bigint = "bigint"
    return _metrics(
        media,
        F.col("p.id"),
        _null(bigint),
        F.col("p.like_count"),
        F.col("p.comments_count"),
        _null(bigint),
        _null(bigint),
        _null(bigint),
    )


def _insight(name: str) -> Column:
    values = F.filter(F.col("p.data"), lambda m: m["name"] == name)
    return F.get(F.get(values, 0)["values"], 0)["value"]


def instagram_insights_metrics(insights: DataFrame) -> DataFrame:
    """Views, reach, saves and shares from a media insights response (``data[].values[0].value``)."""
    return _metrics(
        insights,
        F.col("entity_id"),
        _insight("views"),
        _null("bigint"),
        _null("bigint"),
        _insight("shares"),
        _insight("saved"),
        _insight("reach"),
    )


def tiktok_video_metrics(videos: DataFrame) -> DataFrame:
    """TikTok reports views, likes, comments and shares; saves and reach are not in the API."""
    return _metrics(
        videos,
        F.col("p.id"),
        F.col("p.view_count"),
        F.col("p.like_count"),
        F.col("p.comment_count"),
        F.col("p.share_count"),
        _null("bigint"),
        _null("bigint"),
    )


def accounts(users: DataFrame, id_field: str, name_field: str) -> DataFrame:
    """Account profiles -> accounts; the platforms differ only in field names."""
    return users.select(
        "_record_key",
        F.col(f"p.{id_field}").alias("account_id"),
        "source",
        F.col(f"p.{name_field}").alias("username"),
        F.col("fetched_at").alias("updated_at"),
    )


def account_metrics(users: DataFrame, id_field: str, followers_field: str, media_field: str) -> DataFrame:
    """Account profiles -> one follower/media-count snapshot per fetch."""
    return users.select(
        "_record_key",
        F.col(f"p.{id_field}").alias("account_id"),
        "source",
        "run_id",
        F.col("fetched_at").alias("captured_at"),
        F.col(f"p.{followers_field}").cast("bigint").alias("followers"),
        F.col(f"p.{media_field}").cast("bigint").alias("media_count"),
    )


instagram_accounts = partial(accounts, id_field="id", name_field="username")
tiktok_accounts = partial(accounts, id_field="open_id", name_field="display_name")
instagram_account_metrics = partial(
    account_metrics, id_field="id", followers_field="followers_count", media_field="media_count"
)
tiktok_account_metrics = partial(
    account_metrics, id_field="open_id", followers_field="follower_count", media_field="video_count"
)


def instagram_audience(audience: DataFrame) -> DataFrame:
    """Follower demographics: one row per breakdown dimension value."""
    metric = audience.select(*_base(audience), F.explode(F.col("p.data")).alias("m"))
    breakdown = metric.select("*", F.explode(F.col("m.total_value.breakdowns")).alias("b"))
    results = breakdown.select("*", F.explode(F.col("b.results")).alias("r"))
    return results.select(
        "_record_key",
        "account_id",
        "source",
        "run_id",
        F.col("fetched_at").alias("captured_at"),
        F.array_join(F.col("b.dimension_keys"), ",").alias("breakdown"),
        F.array_join(F.col("r.dimension_values"), ",").alias("dimension_value"),
        F.col("r.value").cast("bigint").alias("value"),
    )


def dip_predictions(predictions: DataFrame) -> DataFrame:
    """Serving predictions (``/v1/score`` log) -> predictions; ``scored_at`` ISO-8601 UTC -> TIMESTAMP."""
    from dip.streaming.envelope_parsing import parse_fetched_at

    return predictions.select(
        "_record_key",
        F.col("p.request_id").alias("request_id"),
        "source",
        F.col("p.entity_id").alias("entity_id"),
        F.col("p.view").alias("view"),
        F.col("p.feature_set_version").cast("bigint").alias("feature_set_version"),
        F.col("p.model_name").alias("model_name"),
        F.col("p.model_version").alias("model_version"),
        F.col("p.variant").alias("variant"),
        F.col("p.score").cast("double").alias("score"),
        parse_fetched_at(F.col("p.scored_at")).alias("scored_at"),
    )


# (source, entity) -> [(silver table, transform)]; the first table is the entity's primary one.
NORMALIZERS = {
    ("instagram", "media"): [
        ("posts", instagram_posts),
        ("post_metrics", instagram_media_metrics),
        ("post_captions", instagram_post_captions),
    ],
    ("instagram", "media_insights"): [("post_metrics", instagram_insights_metrics)],
    ("instagram", "account"): [("accounts", instagram_accounts), ("account_metrics", instagram_account_metrics)],
    ("instagram", "audience"): [("audience", instagram_audience)],
    ("tiktok", "video"): [
        ("posts", tiktok_posts),
        ("post_metrics", tiktok_video_metrics),
        ("post_captions", tiktok_post_captions),
    ],
    ("tiktok", "user"): [("accounts", tiktok_accounts), ("account_metrics", tiktok_account_metrics)],
    ("dip", "prediction"): [("predictions", dip_predictions)],
}
