"""`dip maintain` on the real stack while stream_bronze keeps committing: OPTIMIZE/ZORDER, VACUUM and a checkpoint
compact bronze without stopping the stream or losing a message; time travel to a version inside the retention window
reads the same rows; a Hudi feature table is cleaned; retention archives the local raw zone; metrics per table."""

from __future__ import annotations

import datetime as dt
import threading
import time
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.testing import assertDataFrameEqual

from dip.config import Config
from dip.connectors.base import ApiResponse
from dip.connectors.raw_zone import RawZone, object_store
from dip.features.hudi_store import HudiFeatureStore
from dip.features.specs import POST_DAILY
from dip.lifecycle.maintain import run_maintenance
from dip.observability.lifecycle import MaintenanceMetrics
from dip.streaming.bronze_job import start_stream_bronze
from dip.tables import BRONZE_EVENTS
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture()
def config(stack: Config, tmp_path: Path) -> Config:
    config = isolated_config(stack, tmp_path)
    config.features.table_format = "hudi"
    return config


def _round(config: Config, n: int) -> None:
    account = f"acc{n % 2}"
    value = envelope("instagram", "account", account, {"id": account}, fetched_at="2026-11-26T10:00:00Z")
    produce(config, f"{config.kafka.topics.raw_prefix}instagram", [(f"k{n}".encode(), value)])


def _bronze_rows(spark: SparkSession, config: Config, version: int | None = None):
    reader = spark.read.format("delta")
    if version is not None:
        reader = reader.option("versionAsOf", version)
    return reader.load(BRONZE_EVENTS.path(config)).select("kafka_key", "account_id", "offset")


def _wait_for(spark: SparkSession, config: Config, rows: int, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if _bronze_rows(spark, config).count() >= rows:
                return
        except Exception:  # the table's first commit is not there yet
            pass
        time.sleep(0.5)
    raise AssertionError(f"bronze did not reach {rows} rows")


def test_maintenance_while_a_stream_commits(spark: SparkSession, config: Config) -> None:
    store = HudiFeatureStore(spark, config)
    for views in (1, 2):  # two commits: the first file version is what the cleaner may remove
        row = ("instagram", "p1", "acc0", dt.datetime(2026, 11, 26), "2026-11-26", dt.datetime(2026, 11, 27), views)
        df = spark.createDataFrame(
            [row],
            "source STRING, post_id STRING, account_id STRING, window_start TIMESTAMP, date STRING, "
            "computed_at TIMESTAMP, views_delta BIGINT",
        )
        store.upsert(df, POST_DAILY, "2026-11-26")
    zone = RawZone(object_store(config))
    for day in ("2026-10-01", "2026-11-27"):
        response = ApiResponse("instagram", "media", "media", "acc0", 200, b"{}", "u", f"r{day}", f"{day}T01:00:00Z")
        zone.write(response, "run-1", 1, "p")

    running = start_stream_bronze(spark, config, trigger="processing-time=1 second")
    try:
        for n in range(6):  # six small commits: six small files
            _round(config, n)
            _wait_for(spark, config, n + 1)
        version_before = spark.sql(f"DESCRIBE HISTORY delta.`{BRONZE_EVENTS.path(config)}`").first()["version"]
        rows_before = _bronze_rows(spark, config).collect()

        stop = threading.Event()

        def keep_producing() -> None:
            n = 6
            while not stop.is_set():
                _round(config, n)
                n += 1
                time.sleep(0.7)
            produced.append(n)

        produced: list[int] = []
        producer = threading.Thread(target=keep_producing)
        producer.start()
        metrics = MaintenanceMetrics()
        try:
            summary = run_maintenance(spark, config, metrics=metrics, today=dt.date(2026, 11, 28))
        finally:
            stop.set()
            producer.join()
        _wait_for(spark, config, produced[0])
        assert running.query.isActive and running.query.exception() is None
        last_batch = running.query.lastProgress["batchId"]
    finally:
        running.query.stop()

    bronze = next(t for t in summary.tables if t.table == "bronze_events")
    assert bronze.before.count >= 6
    assert bronze.after.count < bronze.before.count
    assert bronze.actions[:3] == ["retention 400d", "optimize zorder(account_id)", "vacuum 168h"]
    assert bronze.actions[3] in ("checkpoint", "checkpoint skipped (FileAlreadyExistsException)")  # the stream's own
    assert bronze.expired == 0  # every row was ingested today
    assert metrics.registry.get_sample_value(
        "dip_table_data_files", {"table": "bronze_events", "stage": "before"}
    ) == float(bronze.before.count)
    assert metrics.registry.get_sample_value("dip_table_data_files", {"table": "bronze_events", "stage": "after"}) == (
        float(bronze.after.count)
    )
    # the stream committed during and after maintenance, and lost nothing
    assert last_batch >= 6
    keys = sorted(r["kafka_key"] for r in _bronze_rows(spark, config).collect())
    assert keys == sorted(f"k{n}" for n in range(produced[0]))
    # time travel to the version before maintenance (inside the 168 h window) reads the same rows
    assertDataFrameEqual(_bronze_rows(spark, config, version_before), rows_before)
    features = next(t for t in summary.tables if t.table == "post_features_daily")
    assert features.format == "hudi"
    assert features.actions == ["clean (retain 24 commits)"]
    assert [r["views_delta"] for r in store.read(POST_DAILY).collect()] == [2]
    # the raw zone: the old day moved to the archive, today's stayed
    assert (summary.raw.archived, summary.raw.expired) == (2, 0)
    assert [k.split("/")[4] for k in object_store(config).list("archive/")] == ["date=2026-10-01"] * 2
    assert len(object_store(config).list("raw/")) == 2
