"""`dip forget` on the real stack: two accounts through Kafka -> bronze -> silver (with quarantine and DLQ rows), a
Hudi feature table, Redis, the raw zone and the ingest state; one is forgotten with --purge. Nothing of it is readable
anywhere (not even in older table versions), the other is untouched (exact rows), and replaying the topics from
their earliest offsets does not bring it back."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.connectors.base import ApiResponse
from dip.connectors.raw_zone import ARCHIVE_ROOT, RawZone, object_store
from dip.connectors.state import AccountState, state_store
from dip.features.hudi_store import HudiFeatureStore
from dip.features.specs import POST_DAILY
from dip.lifecycle.forget import carry_out
from dip.lifecycle.requests import audit_rows, record_request
from dip.online import make_client
from dip.silver.stream_job import run_stream_silver
from dip.streaming.bronze_job import run_stream_bronze
from dip.tables import (
    BRONZE_EVENTS,
    DLQ,
    SILVER_ACCOUNT_METRICS,
    SILVER_ACCOUNTS,
    SILVER_POST_CAPTIONS,
    SILVER_POST_METRICS,
    SILVER_POSTS,
    SILVER_QUARANTINE,
)
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]

T1 = "2026-11-26T10:00:00Z"
KEEP, GONE = "17841400000000222", "17841400000000111"  # post ids: the account id + 01, 02, 03


def _media(media_id: str, comments: int) -> dict:
    return {
        "id": media_id,
        "caption": f"post {media_id} #abaya",
        "media_type": "IMAGE",
        "media_product_type": "FEED",
        "permalink": f"https://www.instagram.com/p/{media_id}/",
        "timestamp": "2026-11-20T10:00:00+0000",
        "comments_count": comments,
        "like_count": 10,
    }


def _messages(account: str) -> list[tuple[bytes, bytes]]:
    """A good post, the account, a post failing an expectation (quarantine), an unknown schema version (DLQ)."""

    def env(entity: str, entity_id: str, payload: dict, version: int = 1) -> tuple[bytes, bytes]:
        value = envelope(
            "instagram", entity, entity_id, payload, fetched_at=T1, account_id=account, schema_version=version
        )
        return f"instagram:{entity}:{entity_id}".encode(), value

    return [
        env("media", f"{account}01", _media(f"{account}01", 2)),
        env(
            "account", account, {"id": account, "username": f"user_{account}", "followers_count": 100, "media_count": 1}
        ),
        env("media", f"{account}02", _media(f"{account}02", -1)),
        env("media", f"{account}03", _media(f"{account}03", 1), version=99),
    ]


def _land_raw_and_state(config: Config, account: str) -> None:
    zone = RawZone(object_store(config))
    response = ApiResponse(
        "instagram", "media", "media", account, 200, b'{"data": []}', "https://x/media", f"req-{account}", T1
    )
    zone.write(response, "run-1", 1 if account == GONE else 2, "p1")
    archived = RawZone(object_store(config), ARCHIVE_ROOT)
    archived.write(response, "run-0", 1 if account == GONE else 2, "p1")
    state_store(config).save(AccountState("instagram", account, fingerprints={"media": "abc"}))


def _features(spark: SparkSession, config: Config) -> None:
    rows = [
        ("instagram", f"{account}01", account, dt.datetime(2026, 11, 26), "2026-11-26", dt.datetime(2026, 11, 27), 5)
        for account in (GONE, KEEP)
    ]
    df = spark.createDataFrame(
        rows,
        "source STRING, post_id STRING, account_id STRING, window_start TIMESTAMP, date STRING, "
        "computed_at TIMESTAMP, views_delta BIGINT",
    )
    HudiFeatureStore(spark, config).upsert(df, POST_DAILY, "2026-11-26")


def _redis_keys(account: str) -> list[str]:
    return [
        f"dip:account_features_daily:{account}",
        f"dip:account_live:{account}",
        f"dip:post_features_daily:{account}01",
        f"dip:post_live:{account}01",
    ]


def _version(spark: SparkSession, path: str) -> int:
    return spark.sql(f"DESCRIBE HISTORY delta.`{path}` LIMIT 1").first()["version"]


def _accounts_in(df: DataFrame, column: F.Column) -> set[str]:
    return {r[0] for r in df.select(column).distinct().collect()}


def _account_of_row(table: str) -> F.Column:
    if table == SILVER_QUARANTINE.name:
        return F.get_json_object("row_json", "$.account_id")
    if table == DLQ.name:
        return F.get_json_object(F.col("original").cast("string"), "$.account_id")
    return F.col("account_id")


DELTA_TABLES = (BRONZE_EVENTS, SILVER_POSTS, SILVER_POST_METRICS, SILVER_POST_CAPTIONS, SILVER_ACCOUNTS)
DELTA_TABLES += (SILVER_ACCOUNT_METRICS, SILVER_QUARANTINE, DLQ)


@pytest.fixture()
def config(stack: Config, tmp_path: Path) -> Config:
    config = isolated_config(stack, tmp_path)
    config.redis.db = 5
    config.features.table_format = "hudi"
    return config


def test_forget_removes_the_account_everywhere_and_keeps_it_out(spark: SparkSession, config: Config) -> None:
    topic = f"{config.kafka.topics.raw_prefix}instagram"
    produce(config, topic, _messages(GONE) + _messages(KEEP))
    assert run_stream_bronze(spark, config).total("bronze") == 8
    silver = run_stream_silver(spark, config)
    assert {k: silver.total(k) for k in ("silver", "quarantine", "dlq")} == {"silver": 4, "quarantine": 2, "dlq": 2}
    for account in (GONE, KEEP):
        _land_raw_and_state(config, account)
    _features(spark, config)
    redis = make_client(config.redis)
    for key in _redis_keys(GONE) + _redis_keys(KEEP):
        redis.hset(key, mapping={"_v": "1", "x": "1"})
    kept_posts = spark.read.format("delta").load(SILVER_POSTS.path(config)).where(f"account_id = '{KEEP}'")
    kept_posts = kept_posts.select("post_id", "account_id", "caption").collect()
    versions = {t.name: _version(spark, t.path(config)) for t in DELTA_TABLES}

    request = record_request(config, "instagram", GONE, "test@dip", purge=True)
    counts = carry_out(spark, config, [request], account_id=GONE)

    assert counts == {"raw_objects": 4, "lake_rows": 14, "redis_keys": 4, "state_files": 1}
    [requested, completed] = audit_rows(config)
    assert (requested["status"], completed["status"], completed["requested_by"]) == (
        "requested",
        "completed",
        "test@dip",
    )
    assert json.loads(completed["counts_json"]) == {
        "bronze_events": 4,
        "silver_posts": 2,  # p1 and q1 (a quarantined row's other tables are written)
        "silver_accounts": 1,
        "silver_post_metrics": 1,
        "silver_post_captions": 2,
        "silver_account_metrics": 1,
        "silver_quarantine": 1,
        "dlq": 1,
        "post_features_daily": 1,
        "raw_zone": 4,
        "redis": 4,
        "ingest_state": 1,
    }
    assert GONE not in json.dumps(audit_rows(config), default=str)

    # nothing of the forgotten account in any table, nor in the version before the deletion (purge vacuumed its files)
    for table in DELTA_TABLES:
        df = spark.read.format("delta").load(table.path(config))
        assert _accounts_in(df, _account_of_row(table.name)) - {None} == {KEEP}, table.name
        try:
            old = spark.read.format("delta").option("versionAsOf", versions[table.name]).load(table.path(config))
            assert GONE not in _accounts_in(old, _account_of_row(table.name)), table.name
        except Exception as exc:  # the version's files are gone: unreadable, which is the point
            assert "FileNotFound" in str(exc) or "does not exist" in str(exc), str(exc)[:500]
    features = HudiFeatureStore(spark, config).read(POST_DAILY)
    assert [(r["post_id"], r["account_id"]) for r in features.collect()] == [(f"{KEEP}01", KEEP)]
    # the other account is untouched
    assertDataFrameEqual(
        spark.read.format("delta").load(SILVER_POSTS.path(config)).select("post_id", "account_id", "caption"),
        kept_posts,
    )
    assert sorted(p["post_id"] for p in kept_posts) == [f"{KEEP}01", f"{KEEP}02"]
    # raw zone (and its archive), Redis, ingest state
    keys = object_store(config).list("raw/") + object_store(config).list("archive/")
    metas = [json.loads(object_store(config).get(k)) for k in keys if k.endswith(".meta.json")]
    assert [m["account_id"] for m in metas] == [KEEP, KEEP]
    assert len(keys) == 4
    assert [redis.exists(k) for k in _redis_keys(GONE)] == [0, 0, 0, 0]
    assert [redis.hgetall(k) for k in _redis_keys(KEEP)] == [{b"_v": b"1", b"x": b"1"}] * 4
    assert state_store(config).load("instagram", GONE).fingerprints == {}
    assert state_store(config).load("instagram", KEEP).fingerprints == {"media": "abc"}

    # replaying every offset again (a reset bronze checkpoint) does not bring it back
    config.streaming.checkpoint_dir = "_checkpoints_replay"
    replay = run_stream_bronze(spark, config)
    assert (replay.total("kafka"), replay.total("bronze")) == (8, 4)
    run_stream_silver(spark, config)
    assert _version(spark, BRONZE_EVENTS.path(config)) > versions[BRONZE_EVENTS.name] + 1  # delete, then replay
    for table in DELTA_TABLES:
        df = spark.read.format("delta").load(table.path(config))
        assert GONE not in _accounts_in(df, _account_of_row(table.name)), table.name
    assertDataFrameEqual(
        spark.read.format("delta").load(SILVER_POSTS.path(config)).select("post_id", "account_id", "caption"),
        kept_posts,
    )
    redis.delete(*_redis_keys(KEEP))
