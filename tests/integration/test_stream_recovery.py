"""`dip stream all` until SIGTERM: both queries pick up new data, and a stop leaves nothing between a commit and its
checkpoint. A crash between a batch's commits and its checkpoint, then the restart, is the quick chaos run's
(test_chaos.py: both streams, the checkpoint state at the crash, every silver row against a fault-free run)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.config import Config
from dip.silver.stream_job import run_stream_silver
from dip.streaming.bronze_job import run_stream_bronze
from dip.tables import SILVER_LEDGER, SILVER_POSTS
from tests.integration.helpers import envelope, isolated_config, produce

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]


def _env(config: Config) -> dict[str, str]:
    return {
        **os.environ,
        "DIP__LAKE__ROOT": config.lake.root,
        "DIP__KAFKA__TOPICS__RAW_PREFIX": config.kafka.topics.raw_prefix,
        "DIP__KAFKA__TOPICS__DLQ": config.kafka.topics.dlq,
        "DIP__KAFKA__TOPICS__PREDICTIONS": config.kafka.topics.predictions,  # bronze subscribes to it too
        "DIP__STREAMING__APP_ID": config.streaming.app_id,
        "DIP__STREAMING__MAX_OFFSETS_PER_TRIGGER": "8",
        "DIP__STREAMING__MAX_FILES_PER_TRIGGER": "1",
        "DIP__SPARK__CONF__spark.sql.shuffle.partitions": "2",
    }


def _delta_commits(path: str) -> int:
    log = Path(path.removeprefix("file://")) / "_delta_log"
    return len(list(log.glob("*.json"))) if log.is_dir() else 0


def _videos(start: int, n: int) -> list[tuple[bytes, bytes]]:
    return [
        (f"tiktok:video:{i}".encode(), envelope("tiktok", "video", str(7300 + i), {
            "id": str(7300 + i), "create_time": 1763632800 + i, "video_description": f"v{i} #abaya",
            "view_count": 100 + i, "like_count": i, "comment_count": 1, "share_count": 0},
            fetched_at="2026-11-26T10:00:00Z", account_id="open1", run_id="r1"))
        for i in range(start, start + n)
    ]  # fmt: skip


def _wait_for_rows(spark: SparkSession, path: str, rows: int, proc: subprocess.Popen, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        assert proc.poll() is None, f"dip stream all ended early (exit {proc.returncode})"
        if _delta_commits(path) and spark.read.format("delta").load(path).count() >= rows:
            return
        assert time.monotonic() < deadline, f"{path} did not reach {rows} rows in {timeout_s} s"
        time.sleep(1)


def test_stream_all_runs_until_sigterm_and_stops_after_its_batch(
    spark: SparkSession, stack: Config, tmp_path: Path
) -> None:
    """`dip stream all --trigger processing-time=...`: both queries in one application pick up new data as it
    arrives; SIGTERM ends the command cleanly (exit 0, summaries printed) with nothing left half-done."""
    config = isolated_config(stack, tmp_path)
    topic = f"{config.kafka.topics.raw_prefix}tiktok"
    produce(config, topic, _videos(0, 4))
    env = {**_env(config), "DIP__STREAMING__MAX_OFFSETS_PER_TRIGGER": "1000"}
    env.pop("DIP__STREAMING__MAX_FILES_PER_TRIGGER")
    log = tmp_path / "stream-all.log"
    dip = str(Path(sys.executable).parent / "dip")
    with log.open("w") as out:
        proc = subprocess.Popen([dip, "stream", "all", "--trigger", "processing-time=2 seconds"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
    try:
        _wait_for_rows(spark, SILVER_POSTS.path(config), 4, proc, 300)
        produce(config, topic, _videos(4, 3))  # new data while both queries run
        _wait_for_rows(spark, SILVER_POSTS.path(config), 7, proc, 120)
        proc.send_signal(signal.SIGTERM)  # the Python driver only, as a scheduler or `kill` would
        assert proc.wait(timeout=120) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    text = log.read_text()
    assert "stream_bronze" in text and "stream_silver: bronze rows by outcome" in text, text

    # Nothing was left between a commit and its checkpoint: a restart finds no new work.
    assert run_stream_bronze(spark, config).total("kafka") == 0
    assert run_stream_silver(spark, config).batches == []
    ledger = dict(
        spark.read.format("delta").load(SILVER_LEDGER.path(config)).groupBy("outcome").agg(F.count(F.lit(1))).collect()
    )
    assert ledger == {"silver": 7}
