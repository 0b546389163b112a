"""DAG integrity, checked with Airflow's own venv: the DAG files import, tasks and edges are the expected
ones, defaults (retries, backoff, timeouts, alert callback) are set and templates render to real dates."""

from __future__ import annotations

import json
import os
import subprocess
from itertools import pairwise
from pathlib import Path

import pytest

from dip.config import Config
from dip.deploy import write_airflow_files

ROOT = Path(__file__).resolve().parents[3]
AIRFLOW_PYTHON = ROOT / ".venv-airflow" / "bin" / "python"
DUMP = Path(__file__).with_name("dagbag_dump.py")
RUNS = {
    "dip_ingest": {"logical_date": "2026-11-25T10:05:00+00:00"},
    "dip_nightly": {"logical_date": "2026-11-25T01:30:00+00:00"},
    "dip_backfill": {"logical_date": "2026-11-26T09:00:00+00:00", "conf": {"from": "2026-11-01", "to": "2026-11-03"}},
}

pytestmark = pytest.mark.skipif(
    not AIRFLOW_PYTHON.exists(), reason=".venv-airflow does not exist: run `make airflow` to check the DAGs"
)


@pytest.fixture(scope="module")
def dags(test_config: Config, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The DagBag as JSON, loaded by .venv-airflow against a spec rendered from the test config."""
    config = test_config.model_copy(deep=True)
    config.state_dir = str(tmp_path_factory.mktemp("state"))
    write_airflow_files(config, ROOT)
    env_file = Path(config.state_dir) / "airflow" / "airflow.env"
    env = dict(os.environ)
    for line in env_file.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        env[key] = value.strip("'")
    out = Path(config.state_dir) / "dags.json"
    result = subprocess.run(
        [str(AIRFLOW_PYTHON), str(DUMP), str(ROOT / "airflow" / "dags"), json.dumps(RUNS), str(out)],
        env=env, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return {"config": config, **json.loads(out.read_text(encoding="utf-8"))}


def test_every_dag_file_imports(dags: dict) -> None:
    assert dags["import_errors"] == {}
    assert sorted(dags["dags"]) == ["dip_backfill", "dip_ingest", "dip_nightly"]


def test_tasks_and_dependencies(dags: dict) -> None:
    chains = {
        "dip_ingest": ["ingest", "stream_bronze", "stream_silver", "reconcile"],
        "dip_nightly": ["batch_features", "push_online", "quality_report", "train_due", "train"],
        "dip_backfill": ["silver_rebuild", "batch_features", "push_online"],
    }
    for dag_id, chain in chains.items():
        dag = dags["dags"][dag_id]
        assert dag["topological"] == chain
        for before, after in pairwise(chain):
            assert dag["tasks"][after]["upstream"] == [before]
        assert dag["tasks"][chain[0]]["upstream"] == []


def test_operators_schedules_and_defaults(dags: dict) -> None:
    d = dags["dags"]
    assert (d["dip_ingest"]["schedule"], d["dip_ingest"]["timetable"]) == ("CronTriggerTimetable", "5 * * * *")
    assert (d["dip_nightly"]["schedule"], d["dip_nightly"]["timetable"]) == ("CronDataIntervalTimetable", "30 1 * * *")
    assert d["dip_backfill"]["schedule"] == "NullTimetable"
    assert [d[k]["catchup"] for k in sorted(d)] == [False, False, False]
    assert [d[k]["max_active_runs"] for k in sorted(d)] == [1, 1, 1]
    assert all("dip" in d[k]["tags"] for k in d)
    operators = {(dag_id, t): v["operator"] for dag_id in d for t, v in d[dag_id]["tasks"].items()}
    assert operators[("dip_ingest", "stream_bronze")] == "SparkSubmitOperator"
    assert operators[("dip_ingest", "stream_silver")] == "SparkSubmitOperator"
    assert operators[("dip_nightly", "batch_features")] == "SparkSubmitOperator"
    assert operators[("dip_nightly", "train_due")] == "ShortCircuitOperator"
    assert operators[("dip_ingest", "ingest")] == "BashOperator"
    for dag_id in d:
        for task_id, task in d[dag_id]["tasks"].items():
            assert task["on_failure_callback"] == ["alert"], (dag_id, task_id)
            assert task["retry_exponential_backoff"] == 2.0
            assert task["execution_timeout_s"] and task["execution_timeout_s"] <= 6 * 3600
    assert d["dip_ingest"]["tasks"]["stream_silver"]["retries"] == 2
    assert d["dip_ingest"]["tasks"]["reconcile"]["retries"] == 0  # an unbalanced ledger is not transient


def test_spark_submit_tasks_render_for_the_logical_date(dags: dict) -> None:
    config: Config = dags["config"]
    bronze = dags["dags"]["dip_ingest"]["tasks"]["stream_bronze"]["rendered"]
    assert bronze["application"] == str(ROOT / "jobs" / "stream_bronze.py")
    assert bronze["application_args"] == [
        "--trigger", "available-now", "--env", "local",
        "--run-id", "dip_ingest/scheduled__2026-11-25T10:05:00+00:00/stream_bronze/1",
        "--logical-date", "2026-11-25T10:05:00+00:00",
    ]  # fmt: skip
    assert bronze["env_vars"]["PYSPARK_PYTHON"] == str(ROOT / ".venv" / "bin" / "python")
    assert bronze["env_vars"]["DIP_HOME"] == str(ROOT)
    assert bronze["conf"]["spark.sql.extensions"] == "io.delta.sql.DeltaSparkSessionExtension"
    assert bronze["conf"]["spark.sql.shuffle.partitions"] == "2"  # from the test config
    jars = bronze["jars"].split(",")
    assert any("spark-sql-kafka-0-10_2.13-4.0.4" in j for j in jars) and all(Path(j).is_file() for j in jars)
    features = dags["dags"]["dip_nightly"]["tasks"]["batch_features"]["rendered"]
    assert features["application_args"] == [
        "--date", "2026-11-25", "--env", "local",
        "--run-id", "dip_nightly/scheduled__2026-11-25T01:30:00+00:00/batch_features/1",
        "--logical-date", "2026-11-25T01:30:00+00:00",
    ]  # fmt: skip
    backfill = dags["dags"]["dip_backfill"]["tasks"]["batch_features"]["rendered"]
    assert backfill["application_args"] == [
        "--from", "2026-11-01", "--to", "2026-11-03", "--force", "--env", "local",
        "--run-id", "dip_backfill/scheduled__2026-11-26T09:00:00+00:00/batch_features/1",
        "--logical-date", "2026-11-26T09:00:00+00:00",
    ]  # fmt: skip
    push = dags["dags"]["dip_nightly"]["tasks"]["push_online"]["rendered"]
    assert push["application_args"][-4:] == [
        "--run-id", "dip_nightly/scheduled__2026-11-25T01:30:00+00:00/push_online/1",
        "--logical-date", "2026-11-25T01:30:00+00:00",
    ]  # fmt: skip
    silver_outlets = dags["dags"]["dip_ingest"]["tasks"]["stream_silver"]["outlets"]
    lake = config.lake.root.rstrip("/")
    assert silver_outlets == [
        f"{lake}/silver/{t}"
        for t in ("account_metrics", "accounts", "audience", "post_metrics", "posts", "predictions")
    ]
    assert dags["dags"]["dip_nightly"]["tasks"]["batch_features"]["inlets"] == silver_outlets


def test_deadline_alerts_come_from_config(dags: dict) -> None:
    minutes = dags["config"].deploy.airflow.deadline_minutes
    assert minutes == {"dip_ingest": 45, "dip_nightly": 150}
    for dag_id in ("dip_ingest", "dip_nightly"):
        assert dags["dags"][dag_id]["deadlines"] == [
            {
                "reference": "DagRunQueuedAtDeadline",
                "interval_s": minutes[dag_id] * 60.0,
                "callback": "dip_common.deadline_missed",
                "kwargs": {"dag_id": dag_id, "minutes": minutes[dag_id]},
            }
        ]
    assert dags["dags"]["dip_backfill"]["deadlines"] == []  # manual ranges have no fixed duration


def test_cli_tasks_render_for_the_logical_date(dags: dict) -> None:
    dip = str(ROOT / ".venv" / "bin" / "dip")
    tasks = {d: dags["dags"][d]["tasks"] for d in dags["dags"]}
    assert tasks["dip_ingest"]["ingest"]["rendered"]["bash_command"] == f"{dip} ingest --source all --env local"
    assert tasks["dip_ingest"]["reconcile"]["rendered"]["bash_command"] == f"{dip} reconcile --env local"
    assert tasks["dip_nightly"]["quality_report"]["rendered"]["bash_command"] == (
        f"{dip} quality report --date 2026-11-25 --env local"
    )
    assert tasks["dip_backfill"]["silver_rebuild"]["rendered"]["bash_command"] == (
        f"{dip} silver rebuild --from 2026-11-01 --to 2026-11-03 --env local"
    )


def test_train_gate(dags: dict) -> None:
    sunday = dags["train_due"]["2026-11-29T01:30:00+00:00"]
    if (ROOT / "jobs" / "train.py").exists():
        assert sunday is True  # weekly
        train = dags["dags"]["dip_nightly"]["tasks"]["train"]["rendered"]
        assert train["application"] == str(ROOT / "jobs" / "train.py")
        assert train["application_args"] == [
            "--env", "local",
            "--run-id", "dip_nightly/scheduled__2026-11-25T01:30:00+00:00/train/1",
            "--logical-date", "2026-11-25T01:30:00+00:00",
        ]  # fmt: skip
    else:  # skipped, not failed, while the job does not exist
        assert dags["train_due"] == {"2026-11-25": False, "2026-11-29T01:30:00+00:00": False}
