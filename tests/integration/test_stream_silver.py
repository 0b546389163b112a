"""Kafka -> bronze -> silver on real services: exact silver rows, quarantine, DLQ, ledger, idempotent re-run."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.silver.stream_job import run_stream_silver
from dip.streaming.bronze_job import run_stream_bronze
from dip.tables import (
    DLQ,
    QUALITY_RESULTS,
    SILVER_ACCOUNT_METRICS,
    SILVER_AUDIENCE,
    SILVER_LEDGER,
    SILVER_POST_METRICS,
    SILVER_POSTS,
    SILVER_QUARANTINE,
)
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CAPTION = "  عباية سوداء ✨ #Abaya #عباية @NoorModest #abaya "
T1 = "2026-11-26T10:00:00Z"
T2 = "2026-11-26T11:00:00Z"


def _ig_media(media_id: str, likes: int | None, comments: int, caption: str = CAPTION) -> dict:
    media = {
        "id": media_id,
        "caption": caption,
        "media_type": "VIDEO",
        "media_product_type": "REELS",
        "permalink": f"https://www.instagram.com/reel/{media_id}/",
        "timestamp": "2026-11-20T10:00:00+0000",
        "comments_count": comments,
    }
    if likes is not None:
        media["like_count"] = likes
    return media


def _insights(media_id: str, views: int, reach: int, saved: int, shares: int) -> dict:
    def metric(name: str, value: int) -> dict:
        return {
            "name": name,
            "period": "lifetime",
            "values": [{"value": value}],
            "title": name,
            "description": name,
            "id": f"{media_id}/insights/{name}/lifetime",
        }

    return {"data": [metric("reach", reach), metric("saved", saved), metric("views", views), metric("shares", shares)]}


@pytest.fixture()
def config(stack: Config, tmp_path: Path) -> Config:
    return isolated_config(stack, tmp_path)


def test_silver_from_both_platforms(spark: SparkSession, config: Config) -> None:
    ig = f"{config.kafka.topics.raw_prefix}instagram"
    tt = f"{config.kafka.topics.raw_prefix}tiktok"
    produce(config, ig, [
        (b"k1", envelope("instagram", "media", "1790001", _ig_media("1790001", 40, 5), fetched_at=T1, run_id="r1")),
        (b"k2", envelope("instagram", "media_insights", "1790001", _insights("1790001", 400, 300, 7, 3),
                         fetched_at=T1, run_id="r1")),
        # hidden likes stay null, never 0
        (b"k3", envelope("instagram", "media", "1790002", _ig_media("1790002", None, 2, "plain"), fetched_at=T1,
                         run_id="r1")),
        # the exact same record again (a re-sent message): counted as a duplicate
        (b"k1", envelope("instagram", "media", "1790001", _ig_media("1790001", 40, 5), fetched_at=T1, run_id="r1")),
        (b"k4", envelope("instagram", "account", "acc1", {"id": "acc1", "username": "noor.abayas",
                                                         "followers_count": 1200, "media_count": 2},
                         fetched_at=T1, run_id="r1")),
        (b"k5", envelope("instagram", "audience", "acc1:country", {"data": [{
            "name": "follower_demographics", "period": "lifetime", "title": "t", "description": "d", "id": "x",
            "total_value": {"breakdowns": [{"dimension_keys": ["country"], "results": [
                {"dimension_values": ["SA"], "value": 700}, {"dimension_values": ["AE"], "value": 300}]}]}}]},
            fetched_at=T1, run_id="r1")),
        # negative comment count: fails the post_metrics suite -> quarantine
        (b"k6", envelope("instagram", "media", "1790003", _ig_media("1790003", 1, -4, "bad"), fetched_at=T1,
                         run_id="r1")),
        # unknown schema version -> DLQ
        (b"k7", envelope("instagram", "media", "1790004", _ig_media("1790004", 1, 1), fetched_at=T1,
                         schema_version=99, run_id="r1")),
    ])  # fmt: skip
    produce(config, tt, [
        (b"t1", envelope("tiktok", "video", "7300000000000000001", {
            "id": "7300000000000000001", "create_time": 1763632800, "title": "t", "video_description": "#عباية new",
            "share_url": "https://www.tiktok.com/@x/video/7300000000000000001", "duration": 12, "view_count": 0,
            "like_count": 0, "comment_count": 0, "share_count": 0}, fetched_at=T2, account_id="open1", run_id="r2")),
        (b"t2", envelope("tiktok", "user", "open1", {"open_id": "open1", "display_name": "Lina Abayas",
                                                     "follower_count": 5000, "video_count": 1},
                         fetched_at=T2, account_id="open1", run_id="r2")),
    ])  # fmt: skip

    bronze = run_stream_bronze(spark, config)
    assert bronze.total("bronze") == 10
    silver = run_stream_silver(spark, config)
    assert {k: silver.total(k) for k in ("bronze", "silver", "duplicate", "quarantine", "dlq")} == {
        "bronze": 10, "silver": 7, "duplicate": 1, "quarantine": 1, "dlq": 1,
    }  # fmt: skip

    posts = (
        spark.read.format("delta")
        .load(SILVER_POSTS.path(config))
        .select("post_id", "source", "account_id", "caption", "hashtags", "mentions", "media_type", "created_at")
    )
    assertDataFrameEqual(posts, spark.createDataFrame([
        ("1790001", "instagram", "acc1", CAPTION, ["abaya", "عباية"], ["noormodest"], "VIDEO",
         dt.datetime(2026, 11, 20, 10, 0)),
        ("1790002", "instagram", "acc1", "plain", [], [], "VIDEO", dt.datetime(2026, 11, 20, 10, 0)),
        ("1790003", "instagram", "acc1", "bad", [], [], "VIDEO", dt.datetime(2026, 11, 20, 10, 0)),
        ("7300000000000000001", "tiktok", "open1", "#عباية new", ["عباية"], [], "VIDEO",
         dt.datetime(2025, 11, 20, 10, 0)),
    ], "post_id STRING, source STRING, account_id STRING, caption STRING, hashtags ARRAY<STRING>, "
       "mentions ARRAY<STRING>, media_type STRING, created_at TIMESTAMP"))  # fmt: skip

    metrics = (
        spark.read.format("delta")
        .load(SILVER_POST_METRICS.path(config))
        .select(
            "post_id",
            "run_id",
            "captured_at",
            "views",
            "likes",
            "comments",
            "shares",
            "saves",
            "reach",
            "engagement_ratio",
        )
    )
    assertDataFrameEqual(metrics, spark.createDataFrame([
        ("1790001", "r1", dt.datetime(2026, 11, 26, 10), 400, 40, 5, 3, 7, 300, (40 + 5 + 3 + 7) / 400),
        ("1790002", "r1", dt.datetime(2026, 11, 26, 10), None, None, 2, None, None, None, None),
        ("7300000000000000001", "r2", dt.datetime(2026, 11, 26, 11), 0, 0, 0, 0, None, None, None),
    ], "post_id STRING, run_id STRING, captured_at TIMESTAMP, views BIGINT, likes BIGINT, comments BIGINT, "
       "shares BIGINT, saves BIGINT, reach BIGINT, engagement_ratio DOUBLE"))  # fmt: skip

    account_metrics = spark.read.format("delta").load(SILVER_ACCOUNT_METRICS.path(config))
    assertDataFrameEqual(
        account_metrics.select("account_id", "source", "followers", "media_count"),
        spark.createDataFrame(
            [("acc1", "instagram", 1200, 2), ("open1", "tiktok", 5000, 1)],
            "account_id STRING, source STRING, followers BIGINT, media_count BIGINT",
        ),
    )
    audience = spark.read.format("delta").load(SILVER_AUDIENCE.path(config))
    assertDataFrameEqual(
        audience.select("account_id", "breakdown", "dimension_value", "value"),
        spark.createDataFrame(
            [("acc1", "country", "SA", 700), ("acc1", "country", "AE", 300)],
            "account_id STRING, breakdown STRING, dimension_value STRING, value BIGINT",
        ),
    )

    quarantine = spark.read.format("delta").load(SILVER_QUARANTINE.path(config))
    assertDataFrameEqual(
        quarantine.select("table_name", "failed_expectations", "entity_id"),
        spark.createDataFrame(
            [("post_metrics", ["expect_column_values_to_be_between(comments)"], "1790003")],
            "table_name STRING, failed_expectations ARRAY<STRING>, entity_id STRING",
        ),
    )
    dlq = spark.read.format("delta").load(DLQ.path(config)).where("stage = 'silver'")
    assert [(r["error_type"], r["entity_id"]) for r in dlq.collect()] == [("unknown_schema_version", "1790004")]
    assert dlq.first()["error_message"] == "schema version 99 of instagram/media is not in the schema registry"

    results = spark.read.format("delta").load(QUALITY_RESULTS.path(config))
    failed = results.where("NOT success").select("table_name", "expectation", "unexpected_count")
    assertDataFrameEqual(
        failed,
        spark.createDataFrame(
            [("post_metrics", "expect_column_values_to_be_between(comments)", 1)],
            "table_name STRING, expectation STRING, unexpected_count BIGINT",
        ),
    )

    # Re-running over the same input changes no table.
    versions = {
        t.name: spark.sql(f"DESCRIBE HISTORY delta.`{t.path(config)}`").count()
        for t in (SILVER_POSTS, SILVER_POST_METRICS, SILVER_LEDGER)
    }
    assert run_stream_bronze(spark, config).total("kafka") == 0
    assert run_stream_silver(spark, config).batches == []
    assert versions == {
        t.name: spark.sql(f"DESCRIBE HISTORY delta.`{t.path(config)}`").count()
        for t in (SILVER_POSTS, SILVER_POST_METRICS, SILVER_LEDGER)
    }

    ledger = spark.read.format("delta").load(SILVER_LEDGER.path(config)).groupBy("outcome").agg(F.count(F.lit(1)))
    assert dict(ledger.collect()) == {"silver": 7, "duplicate": 1, "quarantine": 1, "dlq": 1}
