"""`dip doctor`: exercise every component for real and report one line per check."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from pyspark.sql import SparkSession

from dip.config import Config
from dip.io.lake import delete_path
from dip.tables import lake_path

OK, FAILED, SKIPPED = "ok", "failed", "skipped"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: str
    detail: str
    seconds: float


class CheckFailed(AssertionError):
    """A doctor check ran but the component gave a wrong answer."""


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def check_spark(spark: SparkSession, config: Config, scratch: str) -> str:
    total = spark.range(1, 101).selectExpr("sum(id) AS s").first()["s"]
    _expect(total == 5050, f"sum(1..100) returned {total}")
    return f"Spark {spark.version}, master {spark.sparkContext.master}"


def check_delta(spark: SparkSession, config: Config, scratch: str) -> str:
    from delta.tables import DeltaTable

    path = f"{scratch}/delta"
    spark.createDataFrame([(1, "a"), (2, "b")], "id INT, v STRING").write.format("delta").save(path)
    DeltaTable.forPath(spark, path).update("id = 2", {"v": "'B'"})
    now = sorted(tuple(r) for r in spark.read.format("delta").load(path).collect())
    before = sorted(tuple(r) for r in spark.read.format("delta").option("versionAsOf", 0).load(path).collect())
    _expect(now == [(1, "a"), (2, "B")], f"after update read {now}")
    _expect(before == [(1, "a"), (2, "b")], f"time travel to v0 read {before}")
    version = DeltaTable.forPath(spark, path).history(1).first()["version"]
    _expect(version == 1, f"latest version {version}, expected 1")
    return "write v0, update v1, time travel to v0"


def check_hudi(spark: SparkSession, config: Config, scratch: str) -> str:
    path = f"{scratch}/hudi"
    options = {
        "hoodie.table.name": "doctor",
        "hoodie.datasource.write.recordkey.field": "id",
        "hoodie.datasource.write.precombine.field": "ts",
        "hoodie.datasource.write.partitionpath.field": "",
        "hoodie.datasource.write.table.type": "COPY_ON_WRITE",
    }
    first = spark.createDataFrame([(1, "a", 1), (2, "b", 1)], "id INT, v STRING, ts INT")
    first.write.format("hudi").options(**options).option("hoodie.datasource.write.operation", "insert").mode(
        "overwrite"
    ).save(path)
    upsert = spark.createDataFrame([(2, "B", 2), (3, "c", 2)], "id INT, v STRING, ts INT")
    upsert.write.format("hudi").options(**options).option("hoodie.datasource.write.operation", "upsert").mode(
        "append"
    ).save(path)
    rows = sorted(tuple(r) for r in spark.read.format("hudi").load(path).select("id", "v", "ts").collect())
    _expect(rows == [(1, "a", 1), (2, "B", 2), (3, "c", 2)], f"after upsert read {rows}")
    return "copy-on-write: insert 2 rows, upsert 2 (1 update, 1 insert), read back 3"


def check_kafka(spark: SparkSession, config: Config, scratch: str) -> str:
    from dip.io.kafka import make_producer, spark_kafka_options

    topic = f"dip.doctor.{uuid.uuid4().hex[:8]}"
    producer = make_producer(config, **{"enable.idempotence": True})
    errors: list[str] = []
    for i in range(3):
        producer.produce(
            topic,
            key=f"k{i}",
            value=f"v{i}",
            partition=0,
            on_delivery=lambda err, _m: errors.append(str(err)) if err else None,
        )
    remaining = producer.flush(30)
    _expect(remaining == 0 and not errors, f"produce failed: {errors or f'{remaining} undelivered'}")
    rows = (
        spark.read.format("kafka")
        .options(**spark_kafka_options(config))
        .option("subscribe", topic)
        .option("startingOffsets", "earliest")
        .load()
        .selectExpr("CAST(key AS STRING) k", "CAST(value AS STRING) v", "partition", "offset")
        .orderBy("offset")
        .collect()
    )
    got = [tuple(r) for r in rows]
    _expect(got == [(f"k{i}", f"v{i}", 0, i) for i in range(3)], f"Spark read {got}")
    return f"confluent-kafka wrote 3 messages to {topic}, Spark read offsets 0-2"


def check_redis(spark: SparkSession, config: Config, scratch: str) -> str:
    from dip.io.redis_client import make_client

    client = make_client(config.redis)
    key = f"dip:doctor:{uuid.uuid4().hex[:8]}"
    try:
        client.hset(key, mapping={"views": 10, "caption": "عباية"})
        got = client.hgetall(key)
        _expect(got == {b"views": b"10", b"caption": "عباية".encode()}, f"HGETALL returned {got}")
    finally:
        client.delete(key)
        client.close()
    return f"HSET/HGETALL round trip on {config.redis.host}:{config.redis.port}"


Check = Callable[[SparkSession, Config, str], str]
CHECKS: dict[str, Check] = {
    "delta": check_delta,
    "hudi": check_hudi,
    "kafka": check_kafka,
    "redis": check_redis,
}


def run_checks(
    config: Config,
    session_factory: Callable[[], SparkSession],
    on_result: Callable[[CheckResult], None] = lambda _r: None,
) -> list[CheckResult]:
    """Run the Spark start-up check, then every component check; a failure never stops the others."""
    results: list[CheckResult] = []

    def record(result: CheckResult) -> None:
        results.append(result)
        on_result(result)

    started = time.monotonic()
    try:
        spark = session_factory()
        detail = check_spark(spark, config, "")
    except Exception as exc:
        record(CheckResult("spark", FAILED, f"{type(exc).__name__}: {exc}"[:500], time.monotonic() - started))
        return results
    record(CheckResult("spark", OK, detail, time.monotonic() - started))
    scratch = lake_path(config, "_doctor", uuid.uuid4().hex[:12])
    try:
        for name, check in CHECKS.items():
            started = time.monotonic()
            if name == "hudi" and not config.spark.hudi_enabled:
                detail = f"spark.hudi_enabled is false (spark.runtime {config.spark.runtime}): Delta feature tables"
                record(CheckResult(name, SKIPPED, detail, 0.0))
                continue
            try:
                status, detail = OK, check(spark, config, scratch)
            except Exception as exc:
                status, detail = FAILED, f"{type(exc).__name__}: {exc}"[:500]
            record(CheckResult(name, status, detail, time.monotonic() - started))
    finally:
        delete_path(spark, scratch)
    return results
