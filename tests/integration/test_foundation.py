"""Everything `dip doctor` checks, with exact values, on real Spark + Delta + Kafka + Redis."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
import redis
from confluent_kafka import Producer
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.doctor import OK, SKIPPED, run_checks
from dip.io.lake import delete_path
from dip.spark.session import installed_runtime as spark_runtime
from dip.tables import lake_path

pytestmark = pytest.mark.integration


def test_session_has_delta_catalog_kryo_and_utc(spark: SparkSession) -> None:
    conf = spark.sparkContext.getConf()
    assert spark.version == {"3.5": "3.5.9", "4.0": "4.0.4"}[spark_runtime()]
    assert conf.get("spark.sql.extensions").startswith("io.delta.sql.DeltaSparkSessionExtension")
    assert conf.get("spark.serializer") == "org.apache.spark.serializer.KryoSerializer"
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"
    assert spark.conf.get("spark.sql.catalog.spark_catalog") == "org.apache.spark.sql.delta.catalog.DeltaCatalog"


def test_only_name_table_sessions_register_the_lake_tables(
    spark: SparkSession, test_config: Config, tmp_path: Path
) -> None:
    """Jobs read by path and skip naming the tables (a cold start cost ~11 s for 14 tables); notebook sessions
    (``name_tables=True``) find every existing lake table as ``dip.<name>``."""
    from dip.spark import build_session
    from dip.tables import SILVER_ACCOUNTS
    from tests.integration.helpers import isolated_config

    config = isolated_config(test_config, tmp_path)
    rows = spark.createDataFrame([("tiktok", "open1")], "source STRING, account_id STRING")
    rows.write.format("delta").save(SILVER_ACCOUNTS.path(config))
    spark.sql("DROP TABLE IF EXISTS dip.silver_accounts")
    assert build_session(config) is spark
    assert not spark.catalog.tableExists("dip.silver_accounts")
    assert build_session(config, name_tables=True) is spark
    named = [r["tableName"] for r in spark.sql("SHOW TABLES IN dip").collect() if not r["isTemporary"]]
    assert named == ["silver_accounts"]
    assertDataFrameEqual(spark.table("dip.silver_accounts"), rows)
    spark.sql("DROP TABLE dip.silver_accounts")  # the catalog entry only; the files stay


def test_delta_write_update_merge_and_time_travel(spark: SparkSession, test_config: Config) -> None:
    from delta.tables import DeltaTable

    path = lake_path(test_config, "t_delta", uuid.uuid4().hex)
    schema = "post_id STRING, views BIGINT, caption STRING"
    v0 = spark.createDataFrame([("17900001", 10, "عباية سوداء #abaya"), ("17900002", 5, None)], schema)
    v0.write.format("delta").save(path)
    table = DeltaTable.forPath(spark, path)
    table.update("post_id = '17900002'", {"views": "views + 1"})
    updates = spark.createDataFrame([("17900001", 12, "عباية سوداء #abaya"), ("17900003", 1, "new")], schema)
    (
        table.alias("t")
        .merge(updates.alias("u"), "t.post_id = u.post_id")
        .whenMatchedUpdateAll()
        .whenNotMatchedInsertAll()
        .execute()
    )
    expected_now = spark.createDataFrame(
        [("17900001", 12, "عباية سوداء #abaya"), ("17900002", 6, None), ("17900003", 1, "new")], schema
    )
    assertDataFrameEqual(spark.read.format("delta").load(path), expected_now)
    assertDataFrameEqual(spark.read.format("delta").option("versionAsOf", 0).load(path), v0)
    history = [(r["version"], r["operation"]) for r in table.history().orderBy("version").collect()]
    assert history == [(0, "WRITE"), (1, "UPDATE"), (2, "MERGE")]
    assert delete_path(spark, path) is True


def test_spark_reads_what_confluent_kafka_wrote(spark: SparkSession, stack: Config) -> None:
    topic = f"test.foundation.{uuid.uuid4().hex[:8]}"
    producer = Producer({"bootstrap.servers": stack.kafka.bootstrap_servers, "enable.idempotence": True, "acks": "all"})
    delivered: list[tuple[int, int]] = []
    for i in range(4):
        producer.produce(
            topic,
            key=f"instagram:media:{i}",
            value=f'{{"n": {i}}}',
            partition=0,
            on_delivery=lambda err, msg: delivered.append((msg.partition(), msg.offset())) if err is None else None,
        )
    assert producer.flush(30) == 0
    assert sorted(delivered) == [(0, 0), (0, 1), (0, 2), (0, 3)]
    df = (
        spark.read.format("kafka")
        .option("kafka.bootstrap.servers", stack.kafka.bootstrap_servers)
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .selectExpr("topic", "partition", "offset", "CAST(key AS STRING) AS key", "CAST(value AS STRING) AS value")
    )
    expected = spark.createDataFrame(
        [(topic, 0, i, f"instagram:media:{i}", f'{{"n": {i}}}') for i in range(4)],
        "topic STRING, partition INT, offset BIGINT, key STRING, value STRING",
    )
    assertDataFrameEqual(df, expected)


def test_redis_hash_round_trip(stack: Config) -> None:
    client = redis.Redis(host=stack.redis.host, port=stack.redis.port, decode_responses=True)
    key = f"dip:test:{uuid.uuid4().hex[:8]}"
    try:
        client.hset(key, mapping={"views": 120, "engagement_ratio": "0.125", "caption": "عباية 🖤"})
        client.expire(key, 60)
        assert client.hgetall(key) == {"views": "120", "engagement_ratio": "0.125", "caption": "عباية 🖤"}
        assert 0 < client.ttl(key) <= 60
    finally:
        client.delete(key)


def test_doctor_checks_all_pass(spark: SparkSession, stack: Config) -> None:
    results = run_checks(stack, lambda: spark)
    statuses = {r.name: r.status for r in results}
    expected_hudi = OK if stack.spark.hudi_enabled else SKIPPED
    assert statuses == {"spark": OK, "delta": OK, "hudi": expected_hudi, "kafka": OK, "redis": OK}, results


def test_hudi_insert_upsert_read_back(spark: SparkSession, test_config: Config) -> None:
    if not test_config.spark.hudi_enabled:
        pytest.skip(f"spark.runtime {test_config.spark.runtime}: no Hudi bundle (Delta feature tables)")
    from dip.doctor import check_hudi

    scratch = lake_path(test_config, "t_hudi", uuid.uuid4().hex)
    assert check_hudi(spark, test_config, scratch) == (
        "copy-on-write: insert 2 rows, upsert 2 (1 update, 1 insert), read back 3"
    )
    assert (spark.read.format("hudi").load(f"{scratch}/hudi").select("_hoodie_commit_time").distinct().count()) == 2
