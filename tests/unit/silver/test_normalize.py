"""Parsed bronze payloads -> silver rows: hashtags, mentions, engagement ratio, timestamps, metrics, audience."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.silver import normalize as N

from .conftest import FETCHED_AT, Bronze

POSTS = "_record_key STRING, " + N.POSTS_DDL
POST_METRICS = "_record_key STRING, " + N.POST_METRICS_DDL
AUDIENCE = "_record_key STRING, " + N.AUDIENCE_DDL


HASHTAG_CASES = [
    pytest.param("عرض خاص #عباية", ["عباية"], id="arabic-survives"),
    pytest.param("New in #Abaya", ["abaya"], id="lower-cased"),
    pytest.param("#Eid #abaya #EID #Abaya #new", ["eid", "abaya", "new"], id="dedup-first-seen-order"),
    pytest.param("✨#eid🌙#Fashion💫 #عيد_سعيد🎉", ["eid", "fashion", "عيد_سعيد"], id="emoji-adjacent"),
    pytest.param("caption ending with #LastTag", ["lasttag"], id="at-end"),
    pytest.param("no tags here, only # and #!", [], id="none"),
]
MENTION_CASES = [
    pytest.param("thanks @Dar.Abaya and @dar.abaya, @shop_1", ["dar.abaya", "shop_1"], id="lower-dedup"),
    pytest.param("بالتعاون مع @متجر_عبايات 🌙", ["متجر_عبايات"], id="arabic"),
    pytest.param("shot by @studio.one.", ["studio.one"], id="sentence-full-stop-is-not-part-of-name"),
    pytest.param("no mentions", [], id="none"),
]
RATIO_CASES = [
    pytest.param((1, 2, 3, 4, 20), 0.5, id="all-known"),
    pytest.param((None, 2, 1, None, 10), 0.3, id="hidden-likes-skipped-not-zero"),
    pytest.param((0, 0, 0, 0, 10), 0.0, id="known-zeros"),
    pytest.param((1, 2, 3, 4, 0), None, id="views-zero"),
    pytest.param((1, 2, 3, 4, None), None, id="views-null"),
    pytest.param((None, None, None, None, 10), None, id="no-interaction-known"),
]


@pytest.fixture(scope="module")
def tags(spark: SparkSession) -> dict[str, tuple[list[str], list[str]]]:
    """caption -> (hashtags, mentions) for every case caption, in one Spark job."""
    captions = [c.values[0] for c in HASHTAG_CASES + MENTION_CASES]
    df = spark.createDataFrame([(c,) for c in captions], "caption STRING")
    rows = df.select("caption", N.hashtags(F.col("caption")).alias("h"), N.mentions(F.col("caption")).alias("m"))
    return {r["caption"]: (r["h"], r["m"]) for r in rows.collect()}


@pytest.fixture(scope="module")
def ratios(spark: SparkSession) -> dict[tuple, float | None]:
    """(likes, comments, shares, saves, views) -> engagement_ratio for every case, in one Spark job."""
    cols = ["likes", "comments", "shares", "saves", "views"]
    inputs = [c.values[0] for c in RATIO_CASES]
    df = spark.createDataFrame(inputs, ", ".join(f"{c} BIGINT" for c in cols))
    rows = df.select(*cols, N.engagement_ratio(*map(F.col, cols)).alias("ratio")).collect()
    return {tuple(r[c] for c in cols): r["ratio"] for r in rows}


@pytest.mark.parametrize(("caption", "expected"), HASHTAG_CASES)
def test_hashtags(tags: dict, caption: str, expected: list[str]) -> None:
    assert tags[caption][0] == expected


@pytest.mark.parametrize(("caption", "expected"), MENTION_CASES)
def test_mentions(tags: dict, caption: str, expected: list[str]) -> None:
    assert tags[caption][1] == expected


@pytest.mark.parametrize(("counts", "expected"), RATIO_CASES)
def test_engagement_ratio(ratios: dict, counts: tuple, expected: float | None) -> None:
    """(likes, comments, shares, saves, views); exact equality: these quotients are exact in binary floating point."""
    assert ratios[counts] == expected


def test_instagram_posts(spark: SparkSession, parsed: Bronze) -> None:
    caption = "  عرض خاص ✨ #عباية @Dar.Abaya\nشكراً 🌙  "
    media = parsed(
        "instagram",
        "media",
        {"id": "18001", "caption": caption, "media_type": "IMAGE", "permalink": "https://www.instagram.com/p/A1/",
         "timestamp": "2026-11-20T18:30:05+0000", "like_count": 3, "comments_count": 1},
        {"id": "18002", "media_type": "VIDEO", "timestamp": "2026-11-20T21:30:05+0300"},
    )  # fmt: skip
    expected = spark.createDataFrame(
        [
            ("rk1", "18001", "instagram", "acc-1", caption, ["عباية"], ["dar.abaya"], "IMAGE",
             "https://www.instagram.com/p/A1/", datetime(2026, 11, 20, 18, 30, 5, tzinfo=UTC), FETCHED_AT),
            ("rk2", "18002", "instagram", "acc-1", None, [], [], "VIDEO", None,
             datetime(2026, 11, 20, 18, 30, 5, tzinfo=UTC), FETCHED_AT),
        ],
        POSTS,
    )  # fmt: skip
    posts = N.instagram_posts(media)
    assertDataFrameEqual(posts, expected)
    assert posts.where("post_id = '18001'").first()["caption"].encode("utf-8") == caption.encode("utf-8")


def test_tiktok_posts_epoch_create_time(spark: SparkSession, parsed: Bronze) -> None:
    videos = parsed(
        "tiktok",
        "video",
        {"id": "7300000000000000001", "create_time": 1764000000, "title": "ignored", "video_description": "وصف #Eid",
         "share_url": "https://www.tiktok.com/@x/video/7300000000000000001"},
        {"id": "7300000000000000002", "create_time": 1700000000, "title": "Only a title #Tag @Someone"},
    )  # fmt: skip
    expected = spark.createDataFrame(
        [
            ("rk1", "7300000000000000001", "tiktok", "acc-1", "وصف #Eid", ["eid"], [], "VIDEO",
             "https://www.tiktok.com/@x/video/7300000000000000001", datetime(2025, 11, 24, 16, 0, 0, tzinfo=UTC),
             FETCHED_AT),
            ("rk2", "7300000000000000002", "tiktok", "acc-1", "Only a title #Tag @Someone", ["tag"], ["someone"],
             "VIDEO", None, datetime(2023, 11, 14, 22, 13, 20, tzinfo=UTC), FETCHED_AT),
        ],
        POSTS,
    )  # fmt: skip
    assertDataFrameEqual(N.tiktok_posts(videos), expected)


def _metric(name: str, value: int) -> dict:
    return {"name": name, "period": "lifetime", "values": [{"value": value}], "id": f"m/insights/{name}/lifetime"}


def test_instagram_insights_metrics_pick_each_metric_by_name(spark: SparkSession, parsed: Bronze) -> None:
    insights = parsed(
        "instagram",
        "media_insights",
        {"data": [_metric("reach", 80), _metric("saved", 2), _metric("views", 100), _metric("shares", 1),
                  _metric("total_interactions", 999)]},
        {"data": [_metric("total_interactions", 999), _metric("shares", 5), _metric("views", 40),
                  _metric("saved", 3), _metric("reach", 30)]},
        {"data": [_metric("reach", 7)]},
        entity_ids=["18001", "18002", "18003"],
    )  # fmt: skip
    expected = spark.createDataFrame(
        [
            ("rk1", "18001", "instagram", "acc-1", "run-1", FETCHED_AT, 100, None, None, 1, 2, 80, 0.03),
            ("rk2", "18002", "instagram", "acc-1", "run-1", FETCHED_AT, 40, None, None, 5, 3, 30, 0.2),
            ("rk3", "18003", "instagram", "acc-1", "run-1", FETCHED_AT, None, None, None, None, None, 7, None),
        ],
        POST_METRICS,
    )
    assertDataFrameEqual(N.instagram_insights_metrics(insights), expected)


def test_instagram_audience_one_row_per_dimension_value(spark: SparkSession, parsed: Bronze) -> None:
    def demographics(key: str, results: list[tuple[str, int]]) -> dict:
        breakdown = {"dimension_keys": [key], "results": [{"dimension_values": [v], "value": n} for v, n in results]}
        return {"data": [{"name": "follower_demographics", "period": "lifetime", "id": "acc-1/insights",
                          "total_value": {"breakdowns": [breakdown]}}]}  # fmt: skip

    audience = parsed(
        "instagram",
        "audience",
        demographics("age", [("18-24", 120), ("25-34", 340)]),
        demographics("country", [("SA", 500), ("AE", 90)]),
    )
    expected = spark.createDataFrame(
        [
            ("rk1", "acc-1", "instagram", "run-1", FETCHED_AT, "age", "18-24", 120),
            ("rk1", "acc-1", "instagram", "run-1", FETCHED_AT, "age", "25-34", 340),
            ("rk2", "acc-1", "instagram", "run-1", FETCHED_AT, "country", "SA", 500),
            ("rk2", "acc-1", "instagram", "run-1", FETCHED_AT, "country", "AE", 90),
        ],
        AUDIENCE,
    )
    assertDataFrameEqual(N.instagram_audience(audience), expected)
