"""`dip demo` end to end on the embedded default: simulated days of ingest, every stage, counts reconcile,
features served, a model trained, registered and scored over HTTP."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from dip.config import Config
from tests.integration.notebook_runner import run_notebooks

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
RECORDS = 5654  # API records of the 21 rounds
POSTS = 420
POST_METRICS = 3642
DAILY = 1564
TRAINING_ROWS = 212  # posts with a snapshot 48-72 h after publish and a daily window ending <= publish + 24 h


def _row(output: str, label: str) -> int:
    match = re.search(rf"│ {re.escape(label)}\s+│\s+(\d+) │", output)
    assert match, f"no row {label!r} in the summary"
    return int(match.group(1))


@pytest.mark.timeout(3600)  # a demo run and three notebooks; minutes on a loaded 2-core machine
def test_demo_end_to_end(stack: Config, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "DIP__LAKE__ROOT": (tmp_path / "lake").as_uri(),
        "DIP__CONNECTORS__STATE_DIR": str(tmp_path / "ingest-state"),
        "DIP__KAFKA__TOPICS__RAW_PREFIX": f"demo{tag}.raw.",
        "DIP__KAFKA__TOPICS__DLQ": f"demo{tag}.dlq",
        "DIP__KAFKA__TOPICS__PREDICTIONS": f"demo{tag}.predictions",  # bronze reads it: keep it per test
        "DIP__STREAMING__APP_ID": f"demo{tag}",
        "DIP__ML__TRACKING_URI": f"sqlite:///{tmp_path / 'mlflow.db'}",  # a registry of its own: v1 is ours
        "DIP__ML__ARTIFACT_LOCATION": (tmp_path / "mlruns").as_uri(),
        # CI time: no hourly feature table here (test_features, the Airflow nightly run and the chaos run cover it)
        "DIP__FEATURES__HOURLY": "false",
        "COLUMNS": "200",
    }
    dip = str(Path(sys.executable).parent / "dip")

    def demo(*args: str) -> str:
        result = subprocess.run(
            [dip, "demo", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1500, check=False
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result.stdout

    first = demo()
    # seed 42, 21 rounds 8 simulated hours apart ending at today's midnight, newest post 6 h before it, a post
    # every 2-3 h per account: each round lists what was published by then and is at most 3 days older than the
    # newest post
    assert "ingest 21 round(s) every 8 h" in first
    assert _row(first, "API records published (this run)") == RECORDS
    assert _row(first, "Kafka messages (raw + predictions)") == RECORDS + 5
    assert _row(first, "bronze events") == RECORDS + 5
    assert _row(first, "silver posts") == POSTS
    assert _row(first, "silver post_metrics") == POST_METRICS
    assert _row(first, "silver accounts") == 6
    assert _row(first, "silver predictions") == 5
    assert _row(first, "silver quarantine") == 0
    assert _row(first, "DLQ (all stages)") == 0
    assert _row(first, "features post_features_daily") == DAILY
    assert _row(first, "features account_features_daily") == 6 * 8  # 8 simulated days
    assert _row(first, "features post_features_hourly") == 0
    assert _row(first, "training rows (labelled posts)") == TRAINING_ROWS
    assert _row(first, "scores served (this run)") == 5
    assert "model: dip-engagement v1 @champion" in first
    # the champion learnt something: it beat its best naive baseline on validation, and its scores differ
    validation = re.search(
        r"model validation: v1: val MAE ([\d.]+) vs best baseline \w+ ([\d.]+) .*; gate passed", first
    )
    assert validation and float(validation[1]) < 0.95 * float(validation[2]), first[-3000:]
    assert "served scores: 5 posts, 5 distinct scores" in first
    assert re.search(r"score explained: POST /v1/score\?explain=true \d+ -> \w+ [+-][\d.]+, \w+ [+-]", first)
    assert '"model_name": "dip-engagement", "model_version": "1", "variant": "champion"' in first
    assert "reconcile: balanced" in first
    assert '"stale": false' in first and "caption_vec" in first
    assert "unauthenticated request -> HTTP 401" in first
    assert "end-to-end freshness (newest API record fetched -> served by /v1/features)" in first
    # stream_live wrote every post's and account's newest snapshot; the served live view is the last round's
    assert re.search(
        r">> stream live \(silver -> Redis live views\)\s+done in [\d.]+s changes \d+, written 426, skipped_stale \d+",
        first,
    ), first[-6000:]
    # the simulated clock also runs during the rounds (minutes in all): the snapshot is in the last round's hour
    last_round = re.findall(r"round 21/21 at (\d{4}-\d\d-\d\d \d\d):\d\d", first)
    assert last_round and f"-> snapshot {last_round[0]}:" in first, first[-3000:]
    assert re.search(r"live view: GET /v1/features/post_live/\d+ -> snapshot .*views_per_hour [\d.]+", first)
    assert re.search(
        r"live freshness \(newest API record fetched -> live view post_live written by stream_live\): [\d.]+s", first
    )
    # the feature tables are Hudi tables (the default format), and the push read them
    features = tmp_path / "lake" / "features"
    for table in ("post_features_daily", "account_features_daily"):
        assert (features / table / ".hoodie" / "hoodie.properties").is_file(), table

    # the notebooks run top to bottom on the demo's lake (same env: lake, topics, app id), any cell error fails
    timings = run_notebooks(env, tmp_path / "notebooks")
    print("notebooks executed (s):", timings)
