"""`dip demo` end to end on the embedded default: every stage runs, counts reconcile, features are served."""

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


def _row(output: str, label: str) -> int:
    match = re.search(rf"│ {re.escape(label)}\s+│\s+(\d+) │", output)
    assert match, f"no row {label!r} in the summary"
    return int(match.group(1))


@pytest.mark.timeout(2400)  # two demo runs and three notebooks; minutes on a loaded 2-core machine
def test_demo_end_to_end_twice(stack: Config, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    env = {
        **os.environ,
        "DIP__LAKE__ROOT": (tmp_path / "lake").as_uri(),
        "DIP__CONNECTORS__STATE_DIR": str(tmp_path / "ingest-state"),
        "DIP__KAFKA__TOPICS__RAW_PREFIX": f"demo{tag}.raw.",
        "DIP__KAFKA__TOPICS__DLQ": f"demo{tag}.dlq",
        "DIP__KAFKA__TOPICS__PREDICTIONS": f"demo{tag}.predictions",  # bronze reads it: keep it per test
        "DIP__STREAMING__APP_ID": f"demo{tag}",
        "COLUMNS": "200",
    }
    dip = str(Path(sys.executable).parent / "dip")

    def demo(*args: str) -> str:
        result = subprocess.run(
            [dip, "demo", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False
        )
        assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
        return result.stdout

    first = demo()
    # seed 42: 3 Instagram + 3 TikTok accounts, 10 posts each (Instagram: media + insights), 51 audience rows
    assert _row(first, "API records published (this run)") == 105
    assert _row(first, "Kafka raw messages") == 105
    assert _row(first, "bronze events") == 105
    assert _row(first, "silver posts") == 60
    assert _row(first, "silver post_metrics") == 60
    assert _row(first, "silver accounts") == 6
    assert _row(first, "silver audience") == 51
    assert _row(first, "silver quarantine") == 0
    assert _row(first, "DLQ (all stages)") == 0
    assert _row(first, "features post_features_daily") == 60
    assert _row(first, "features account_features_daily") == 6
    assert "reconcile: balanced" in first
    assert '"stale": false' in first and "caption_vec" in first
    assert "unauthenticated request -> HTTP 401" in first

    second = demo()  # the simulator did not change: nothing new is published, tables stay the same
    assert _row(second, "API records published (this run)") == 0
    assert _row(second, "bronze events") == 105
    assert "reconcile: balanced" in second

    # the notebooks run top to bottom on the demo's lake (same env: lake, topics, app id), any cell error fails
    timings = run_notebooks(env, tmp_path / "notebooks")
    print("notebooks executed (s):", timings)
