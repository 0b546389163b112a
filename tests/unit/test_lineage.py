"""Run lineage: a recorded run appends one row with its reads and writes; `table_origin` walks them back."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from dip import lineage
from dip.config import Config
from dip.tables import BRONZE_EVENTS, SILVER_POSTS


@pytest.fixture()
def config(test_config: Config, tmp_path: Path) -> Config:
    config = test_config.model_copy(deep=True)
    config.lake.root = (tmp_path / "lake").as_uri()
    config.streaming.checkpoint_dir = "_checkpoints"
    return config


def _append(spark, path: str, rows: list[tuple[str, int]]) -> None:
    spark.createDataFrame(rows, "id STRING, n INT").write.format("delta").mode("append").save(path)


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    lineage.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_recorded_runs_chain_from_silver_back_to_bronze(spark, config: Config) -> None:
    bronze, silver = BRONZE_EVENTS.path(config), SILVER_POSTS.path(config)
    args = _args("--run-id", "dip_ingest/r1/stream_bronze/1", "--logical-date", "2026-11-25T10:05:00+00:00")
    with lineage.recorded_run(spark, config, "stream_bronze", args, writes=[BRONZE_EVENTS]) as run:
        _append(spark, bronze, [("a", 1)])
        _append(spark, bronze, [("b", 2)])
        run.counts = {"bronze": 2}
    with lineage.recorded_run(spark, config, "stream_silver", _args(), reads=[BRONZE_EVENTS], writes=[SILVER_POSTS]):
        _append(spark, silver, [("a", 1), ("b", 2)])

    origin = lineage.table_origin(spark, config, "silver_posts")
    assert (origin.table, origin.version) == ("silver_posts", 0)
    assert origin.run["job"] == "stream_silver" and origin.run["status"] == "success"
    assert origin.run["reads"] == [
        {"kind": "delta", "name": "bronze_events", "path": bronze, "version": 1, "detail": None}
    ]
    assert origin.run["writes"] == [
        {"name": "silver_posts", "path": silver, "version_before": None, "version_after": 0}
    ]
    (upstream,) = origin.upstream
    assert (upstream.table, upstream.version) == ("bronze_events", 1)
    assert upstream.run["job"] == "stream_bronze"
    assert upstream.run["parent_run"] == "dip_ingest/r1/stream_bronze/1"
    assert upstream.run["logical_date"] == "2026-11-25T10:05:00+00:00"
    assert upstream.run["counts"] == {"bronze": 2}
    assert upstream.run["dip_version"] == "0.1.0"


def test_a_failed_run_is_recorded_and_reraised(spark, config: Config) -> None:
    recorded = lineage.recorded_run(spark, config, "stream_silver", _args(), writes=[SILVER_POSTS])
    with pytest.raises(RuntimeError, match="boom"), recorded:
        raise RuntimeError("boom")
    (run,) = lineage.recent_runs(spark, config, "stream_silver")
    assert run["status"] == "failed" and run["error"] == "RuntimeError: boom"
    assert run["writes"][0]["version_before"] is None and run["writes"][0]["version_after"] is None


def _commits(checkpoint: Path, *batches: int) -> None:
    (checkpoint / "commits").mkdir()
    for batch in batches:
        (checkpoint / "commits" / str(batch)).write_text('v1\n{"nextBatchWatermarkMs":0}')


def test_stream_reads_come_from_the_checkpoint(spark, config: Config, tmp_path: Path) -> None:
    offsets = Path(tmp_path / "lake" / "_checkpoints" / "stream_silver" / "offsets")
    offsets.mkdir(parents=True)
    delta_offset = {
        "sourceVersion": 1,
        "reservoirId": "x",
        "reservoirVersion": 4,
        "index": -1,
        "isStartingVersion": False,
    }
    (offsets / "0").write_text("v1\n{}\n" + json.dumps({**delta_offset, "reservoirVersion": 2}))
    (offsets / "3").write_text('v1\n{"batchWatermarkMs":0}\n' + json.dumps(delta_offset))
    (offsets / "4").write_text("v1\n{}\n" + json.dumps({**delta_offset, "reservoirVersion": 9}))  # planned only
    _commits(offsets.parent, 0, 3)
    kafka = Path(tmp_path / "lake" / "_checkpoints" / "stream_bronze" / "offsets")
    kafka.mkdir(parents=True)
    (kafka / "1").write_text('v1\n{}\n{"dip.raw.tiktok":{"0":7,"1":3}}')
    _commits(kafka.parent, 1)

    (silver_read,) = lineage.stream_reads(spark, config, "stream_silver", BRONZE_EVENTS)  # batch 3: 4 has no commit
    assert (silver_read["kind"], silver_read["name"], silver_read["version"]) == ("delta_stream", "bronze_events", 3)
    (kafka_read,) = lineage.stream_reads(spark, config, "stream_bronze", None)
    assert (kafka_read["kind"], kafka_read["name"]) == ("kafka", "dip.raw.tiktok")
    assert json.loads(kafka_read["detail"]) == {"0": 7, "1": 3}


def test_find_table_accepts_catalog_names_and_paths() -> None:
    assert lineage.find_table("dip.silver_posts") == SILVER_POSTS
    assert lineage.find_table("posts") == SILVER_POSTS
    assert lineage.find_table("bronze/events") == BRONZE_EVENTS
    with pytest.raises(ValueError, match="unknown table"):
        lineage.find_table("gold")
