"""A real `airflow dags test` of dip_ingest (then dip_nightly) against the local stack and the API simulator:
spark-submit tasks from Airflow's own venv run the jobs to success, and lineage records every Spark job run."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dip.config import Config, load_config
from dip.deploy import write_airflow_files

pytestmark = [pytest.mark.integration, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ROOT / ".venv-airflow" / "bin" / "airflow"
TT_IDS = ["_000LinaAbayasOpenId", "_000NoorModestOpenId", "_000DubaiAbayaOpenId"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    from dip.simulator import create_app
    from dip.simulator.server import background_server

    with background_server(create_app(42)) as url:
        yield url


@pytest.fixture(scope="module")
def airflow_env(stack: Config, simulator: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Airflow's environment: its own home, an isolated lake, state and topics, the simulator's credentials."""
    if not AIRFLOW.exists():
        pytest.skip(".venv-airflow does not exist: run `make airflow`")
    tmp_path = tmp_path_factory.mktemp("airflow_run")
    tag = uuid.uuid4().hex[:8]
    dip_env = {
        "DIP_HOME": str(ROOT),
        "DIP_ENV": "local",
        "DIP__LAKE__ROOT": (tmp_path / "lake").as_uri(),
        "DIP__STATE_DIR": str(tmp_path / "state"),
        "DIP__KAFKA__TOPICS__RAW_PREFIX": f"af{tag}.raw.",
        "DIP__KAFKA__TOPICS__DLQ": f"af{tag}.dlq",
        "DIP__STREAMING__APP_ID": f"af{tag}",
        "DIP__CONNECTORS__INSTAGRAM__BASE_URL": simulator,
        "DIP__CONNECTORS__TIKTOK__BASE_URL": simulator,
        "DIP__CONNECTORS__INSTAGRAM__APP_SECRET": "dev-ig-app-secret",
        "DIP__CONNECTORS__INSTAGRAM__ACCESS_TOKEN": "dev-ig-user-token",
        "DIP__CONNECTORS__TIKTOK__CLIENT_SECRET": "dev-tt-client-secret",
        "DIP__CONNECTORS__TIKTOK__REFRESH_TOKENS": json.dumps({i: f"dev-refresh-{i}" for i in TT_IDS}),
        "DIP__METRICS__TEXTFILE_DIR": str(tmp_path / "metrics"),
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIP", "AIRFLOW"))} | dip_env
    write_airflow_files(load_config(environ=env), ROOT)
    for line in (tmp_path / "state" / "airflow" / "airflow.env").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        env[key] = value.strip("'")
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, check=True, timeout=180)
    return env


def _dags_test(env: dict[str, str], dag_id: str, day: str) -> str:
    result = subprocess.run(
        [str(AIRFLOW), "dags", "test", dag_id, day],
        env=env, cwd=env["AIRFLOW_HOME"], capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    assert f"DagRun Finished: dag_id={dag_id}" in output and "state=success" in output, output[-6000:]
    return output


TODAY = datetime.now(UTC).date().isoformat()


def test_dip_ingest_runs_green_and_records_lineage(airflow_env: dict[str, str], spark) -> None:
    from dip import lineage

    today = TODAY
    output = _dags_test(airflow_env, "dip_ingest", f"{today}T10:05:00+00:00")
    assert "reconcile: 9 balanced, 0 unbalanced" in output or ", 0 unbalanced" in output

    config = load_config(environ=airflow_env)
    runs = {r["job"]: r for r in lineage.recent_runs(spark, config)}
    assert sorted(runs) == ["stream_bronze", "stream_silver"]
    assert all(r["status"] == "success" for r in runs.values())
    assert runs["stream_bronze"]["parent_run"].startswith("dip_ingest/")
    assert runs["stream_bronze"]["parent_run"].endswith("/stream_bronze/1")
    assert runs["stream_bronze"]["logical_date"] == f"{today}T10:05:00+00:00"
    topics = {r["name"] for r in runs["stream_bronze"]["reads"] if r["kind"] == "kafka"}
    prefix = airflow_env["DIP__KAFKA__TOPICS__RAW_PREFIX"]
    assert topics == {f"{prefix}instagram", f"{prefix}tiktok"}

    origin = lineage.table_origin(spark, config, "silver_posts")
    assert origin.run["job"] == "stream_silver"
    assert [(u.table, u.run["job"]) for u in origin.upstream] == [("bronze_events", "stream_bronze")]


@pytest.mark.skipif(not (ROOT / "jobs" / "batch_features.py").exists(), reason="jobs/batch_features.py missing")
def test_dip_nightly_runs_green_on_the_ingested_day(airflow_env: dict[str, str]) -> None:
    """Runs after the ingest test in this module (same lake): features, online push, quality report; train is
    gated off (a model on this feature set version exists, not a Sunday): one ingest round has no labels to train on."""
    fsv = str(load_config(environ=airflow_env).features.feature_set_version)
    subprocess.run(
        [str(AIRFLOW), "variables", "set", "dip_trained_feature_set_version", fsv],
        env=airflow_env, capture_output=True, check=True, timeout=120,
    )  # fmt: skip
    day = TODAY if datetime.fromisoformat(TODAY).weekday() != 6 else "2026-11-26"
    nightly = _dags_test(airflow_env, "dip_nightly", day)
    assert "features: 1 day(s) computed" in nightly
    assert "train skipped" in nightly or "train not due" in nightly
