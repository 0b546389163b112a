"""The chaos run, bounded for CI (``benchmarks/chaos.py --quick``): ingest under an API storm with kill -9 and a
broker restart, then `dip stream all` crashing right after bronze's and after silver's first batch commits (before
their checkpoints); then reconcile and a comparison of every silver table with a fault-free run. `make chaos`
runs the full set (timed kill -9 of every stage, broker/Redis restarts, features, push-online, serving)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from dip.config import Config

pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.chaos]  # in `make test`; `make chaos-quick` alone
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(1500)
def test_quick_chaos_run_loses_and_duplicates_nothing(stack: Config, tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "chaos.py"), "--quick", "--results-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1400,
    )
    result = json.loads((tmp_path / "chaos_quick.json").read_text())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (result["rows_lost"], result["rows_duplicated"], result["mismatches"]) == (0, 0, 0)
    assert result["rows_compared"] > 100 and set(result["tables"]) >= {"silver_posts", "silver_post_metrics"}
    assert {r["exit"] for r in result["reconcile"].values()} == {0}
    kinds = [f["fault"] for f in result["faults"]]
    assert kinds == ["API storm", "kill -9", "kafka killed"] + ["crash between commit and checkpoint"] * 2
    crashes = [f for f in result["faults"] if f["fault"].startswith("crash")]
    assert [(f["point"], f["injected"]) for f in crashes] == [("stream_bronze:0", True), ("stream_silver:0", True)]
    # each crash came after the batch's commits and before Spark's checkpoint recorded it
    assert [f["checkpoint"] for f in crashes] == [{"offsets": ["0"], "commits": []}] * 2
