"""Every benchmark at tiny sizes, so none rots: result keys are there and both sides saw the same rows.

The Spark benchmarks of issue 9 (stream, features, scaling, freshness) run in-process on the test
session; the older scripts and the Feast comparison run as the command line a user types, with
their results written to a temp folder (benchmarks/results/ is left alone). Figures are not
asserted: tiny sizes measure fixed costs only.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dip.config import Config

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
BENCHMARKS = ROOT / "benchmarks"
ROWS = 200


@pytest.fixture(scope="module")
def bench() -> Iterator[Any]:
    """The benchmarks folder importable (its scripts import each other by module name)."""
    sys.path.insert(0, str(BENCHMARKS))
    import _common

    yield _common
    sys.path.remove(str(BENCHMARKS))


@pytest.fixture
def scratch(bench: Any) -> Iterator[Any]:
    made = bench.Scratch("smoke")
    yield made
    made.cleanup()


def _script(name: str, tmp_path: Path, *args: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, str(BENCHMARKS / f"{name}.py"), "--results-dir", str(tmp_path), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    return json.loads(next(tmp_path.glob("*.json")).read_text(encoding="utf-8"))


@pytest.mark.timeout(900)
def test_stream_bronze_silver_and_baseline_read_every_message(stack: Config, spark: Any, scratch: Any) -> None:
    from stream import measure_stream, report

    result = measure_stream(spark, scratch, env=None, rows=ROWS, partitions=2, runs=1, warmup=0, seed=3)

    assert result["load"]["messages"] == ROWS
    assert result["baseline"]["rows_written"] == ROWS
    assert result["bronze"]["counts"] == {"batches": 1, "kafka": ROWS, "bronze": ROWS, "dlq": 0}
    silver = result["silver"]["counts"]
    assert silver["bronze"] == ROWS
    assert silver["silver"] + silver["quarantine"] + silver["dlq"] + silver["duplicate"] == ROWS
    assert silver["duplicate"] == 0 and silver["dlq"] == 0  # every seeded snapshot is new and on time
    assert set(result["ratios"]) == {"bronze", "bronze_silver"}
    assert "ratio" in report(result)


@pytest.mark.timeout(600)
def test_features_store_and_parquet_write_the_same_rows(spark: Any, scratch: Any) -> None:
    from features import measure_features, report

    result = measure_features(spark, scratch, env=None, rows=ROWS, runs=1, warmup=0)

    assert result["format"] == "hudi" and result["formats"] == ["hudi", "delta"]
    assert result["baseline"]["rows_written"] == ROWS
    for fmt in ("hudi", "delta"):
        assert result[fmt]["first_write"]["rows_written"] == ROWS
        assert result[fmt]["first_write"]["rows_in_table"] == ROWS  # the re-run kept exactly the day's rows
        assert {"ratio", "rerun_ratio", "rerun"} <= set(result[fmt])
    assert result["ratio"] == result["hudi"]["ratio"]
    assert "hudi first write (bulk_insert)" in report(result) and "delta re-run (MERGE, no-op)" in report(result)


@pytest.mark.timeout(900)
def test_scaling_reports_growth_per_series(stack: Config, spark: Any, scratch: Any) -> None:
    from scaling import measure_scaling, report

    result = measure_scaling(
        spark,
        scratch,
        env=None,
        sizes=[200, 100],  # unsorted on purpose; two sizes are the fewest that have a growth
        runs=1,
        warmup=0,
        seed=3,
        partitions=2,
        silver=False,
        merge=False,
    )

    assert result["sizes"] == [100, 200]
    assert set(result["growth"]) == {"stream_baseline", "stream_bronze", "features_parquet", "features_dip"}
    for points in result["growth"].values():
        assert [p["rows"] for p in points] == [100, 200]
        assert points[0]["growth"] == 1.0
    for size in result["per_size"]:
        assert (
            size["stream"]["baseline"]["rows_written"] == size["stream"]["bronze"]["counts"]["bronze"] == size["rows"]
        )
        assert size["features"]["hudi"]["first_write"]["rows_written"] == size["rows"]
    assert "stream_bronze" in report(result)


@pytest.mark.timeout(900)
def test_freshness_one_round_serves_what_was_ingested(stack: Config, spark: Any, scratch: Any) -> None:
    from freshness import bench_config, clean_db, measure_freshness, report

    config = bench_config(scratch, None, db=11)
    try:
        result = measure_freshness(spark, scratch, config, rounds=1, warmup=0, seed=3)
    finally:
        clean_db(config)

    (only,) = result["per_round"]
    assert only["records"] > 0
    assert only["bronze_rows"] == only["records"] == only["silver_rows"]
    assert only["pushed"] > 0 and only["served_new_snapshot"]
    assert set(only["stages_s"]) == {"ingest", "bronze", "silver", "features", "push", "http_read"}
    assert result["first_fetch_to_visible"]["p50_s"] >= result["last_fetch_to_visible"]["p50_s"] > 0
    assert "p95" in report(result)


@pytest.mark.timeout(900)
def test_feast_comparison_runs_or_says_why(stack: Config, tmp_path: Path) -> None:
    venv = ROOT / ".venv-feast"  # make test installs it (make feast-venv)
    args = ["--rows", str(ROWS), "--runs", "1", "--warmup", "0", "--reads", "20", "--no-serving"]
    result = _script("feast_compare", tmp_path, *args, "--no-install")  # installing takes minutes: not here

    assert result["benchmark"] == "feast"
    if not venv.exists():
        assert result["available"] is False and "--no-install" in result["reason"]
        return
    assert result["available"] is True, result.get("reason")
    push = result["push"]
    assert push["dip_push_online"]["rows_written"] == push["dip_push_online"]["entity_keys_in_redis"] == ROWS
    assert push["feast_materialize"]["entity_keys_in_redis"] == ROWS
    reads = push["feast_get_online_features"]
    assert reads["same_values_read_by_feast"] is True
    assert reads["raw_hash_difference"] == {
        "compared_keys": 3,
        "only_dip": ["_dip_fsv:post_features_daily", "_dip_v:post_features_daily"],
        "only_feast": [],
        "different": [],
    }
    assert {"single", "batch_100"} <= set(reads["dip_written"]) and "serving" not in result


@pytest.mark.timeout(600)
def test_silver_steps_account_for_the_whole_batch(stack: Config, spark: Any, scratch: Any) -> None:
    from silver_steps import profile_silver, report

    result = profile_silver(spark, scratch, env=None, rows=ROWS, seed=3)

    assert result["bronze_rows"] == ROWS
    assert result["silver_counts"]["bronze"] == result["silver_counts"]["silver"] == ROWS
    steps = result["steps_s"]
    assert {"classify", "_summary", "run_writes", "gx_table_level", "other"} <= set(steps)
    assert sum(steps.values()) == pytest.approx(result["silver_batch_s"], abs=0.01)
    assert "run_writes" in report(result)


@pytest.mark.timeout(600)
@pytest.mark.parametrize(
    ("name", "args", "keys"),
    [
        ("quality_overhead", ["--rows", "200", "--runs", "1", "--warmup", "0"], {"overhead", "baseline_s", "dip_s"}),
        ("dashboard_load", ["--rows", "30", "--runs", "1", "--warmup", "0"], {"page_with_data", "static_only"}),
        ("online_push", ["--rows", str(ROWS)], {"feature_write", "push"}),
        ("serving_latency", ["--requests", "200", "--concurrency", "1", "--entities", "50"], {"runs", "setup"}),
        (
            "live_push",
            ["--rows", "500", "--runs", "1", "--warmup", "0", "--db", "13"],
            {"sides", "stream_live_vs_single_thread_cas", "write_step_vs_single_thread_cas"},
        ),
    ],
)
def test_older_benchmarks_write_their_results(
    stack: Config, tmp_path: Path, name: str, args: list[str], keys: set[str]
) -> None:
    result = _script(name, tmp_path, *args)

    assert keys <= set(result)
