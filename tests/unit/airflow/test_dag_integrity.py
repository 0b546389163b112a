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
RUNS = {  # runs whose templates are rendered: the context the Task SDK builds for each kind of run
    "ingest": {"dag_id": "dip_ingest", "logical_date": "2026-11-25T10:05:00+00:00"},
    # triggered by dip_ingest's close_day publishing the silver day partition 2026-11-25
    "nightly": {"dag_id": "dip_nightly", "logical_date": None, "run_after": "2026-11-26T00:07:12+00:00",
                "partition_key": "2026-11-25"},
    "nightly_manual": {"dag_id": "dip_nightly", "logical_date": "2026-11-26T09:00:00+00:00",
                       "conf": {"day": "2026-11-20"}},
    "nightly_manual_default": {"dag_id": "dip_nightly", "logical_date": "2026-11-26T09:00:00+00:00"},
    "backfill": {"dag_id": "dip_backfill", "logical_date": "2026-11-26T09:00:00+00:00",
                 "conf": {"from": "2026-11-01", "to": "2026-11-03"}},
}  # fmt: skip

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
    # the model was trained on the current feature set version (what train's success callback records)
    env["AIRFLOW_VAR_DIP_TRAINED_FEATURE_SET_VERSION"] = str(config.features.feature_set_version)
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
        "dip_ingest": ["ingest", "stream_bronze", "stream_silver", "reconcile", "close_day"],
        "dip_nightly": [
            "batch_features",
            "gold",
            "push_online",
            "forget_pending",
            "maintain",
            "quality_report",
            "train_due",
            "train",
        ],
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
    assert d["dip_nightly"]["schedule"] == "PartitionedAssetTimetable"
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
    assert operators[("dip_ingest", "close_day")] == "PythonOperator"
    for dag_id in d:
        for task_id, task in d[dag_id]["tasks"].items():
            assert task["on_failure_callback"] == ["alert"], (dag_id, task_id)
            assert task["retry_exponential_backoff"] == 2.0
            assert task["execution_timeout_s"] and task["execution_timeout_s"] <= 6 * 3600
    assert d["dip_ingest"]["tasks"]["stream_silver"]["retries"] == 2
    assert d["dip_ingest"]["tasks"]["reconcile"]["retries"] == 0  # an unbalanced ledger is not transient


def test_spark_submit_tasks_render_for_the_logical_date(dags: dict) -> None:
    bronze = dags["runs"]["ingest"]["stream_bronze"]
    assert bronze["application"] == str(ROOT / "jobs" / "stream_bronze.py")
    assert bronze["application_args"] == [
        "--trigger", "available-now", "--env", "local",
        "--run-id", "dip_ingest/scheduled__2026-11-25T10:05:00+00:00/stream_bronze/1",
        "--logical-date", "2026-11-25T10:05:00+00:00",
    ]  # fmt: skip
    assert bronze["env_vars"]["PYSPARK_PYTHON"] == str(ROOT / ".venv" / "bin" / "python")
    assert bronze["env_vars"]["DIP_HOME"] == str(ROOT)
    assert bronze["conf"]["spark.sql.extensions"] == (
        "io.delta.sql.DeltaSparkSessionExtension,org.apache.spark.sql.hudi.HoodieSparkSessionExtension"
    )
    assert bronze["conf"]["spark.sql.shuffle.partitions"] == "2"  # from the test config
    jars = bronze["jars"].split(",")
    assert any("spark-sql-kafka-0-10_2.12-3.5.7" in j for j in jars) and all(Path(j).is_file() for j in jars)
    features = dags["runs"]["nightly"]["batch_features"]
    assert features["application_args"] == [
        "--date", "2026-11-25", "--env", "local",  # the partition key: the day dip_ingest published
        "--run-id", "dip_nightly/asset_triggered__2026-11-26T00:07:12+00:00/batch_features/1",
        "--logical-date", "2026-11-26T00:07:12+00:00",  # no logical date: when the run was triggered
    ]  # fmt: skip
    assert dags["runs"]["nightly_manual"]["batch_features"]["application_args"][:2] == ["--date", "2026-11-20"]
    assert dags["runs"]["nightly_manual_default"]["batch_features"]["application_args"][:2] == ["--date", "2026-11-25"]
    backfill = dags["runs"]["backfill"]["batch_features"]
    assert backfill["application_args"] == [
        "--from", "2026-11-01", "--to", "2026-11-03", "--force", "--env", "local",
        "--run-id", "dip_backfill/scheduled__2026-11-26T09:00:00+00:00/batch_features/1",
        "--logical-date", "2026-11-26T09:00:00+00:00",
    ]  # fmt: skip
    push = dags["runs"]["nightly"]["push_online"]
    assert push["application_args"][-4:] == [
        "--run-id", "dip_nightly/asset_triggered__2026-11-26T00:07:12+00:00/push_online/1",
        "--logical-date", "2026-11-26T00:07:12+00:00",
    ]  # fmt: skip


def test_nightly_is_chained_to_ingest_by_the_silver_day_partitions(dags: dict) -> None:
    """dip_ingest's close_day is the only producer of silver asset events; dip_nightly waits for the same day
    partition of every silver table."""
    d = dags["dags"]
    lake = dags["config"].lake.root.rstrip("/")
    tables = ("account_metrics", "accounts", "audience", "post_captions", "post_metrics", "posts", "predictions")
    silver = [f"{lake}/silver/{t}" for t in tables]
    assert d["dip_ingest"]["tasks"]["close_day"]["outlets"] == silver
    assert d["dip_ingest"]["tasks"]["close_day"]["upstream"] == ["reconcile"]  # only a balanced run publishes
    producers = [(dag, t) for dag in d for t, task in d[dag]["tasks"].items() if set(task["outlets"]) & set(silver)]
    assert producers == [("dip_ingest", "close_day")]
    assert d["dip_nightly"]["schedule_assets"] == silver
    assert d["dip_nightly"]["schedule_condition"] == "AssetAll"
    assert d["dip_nightly"]["partition_mapper"] == "IdentityMapper"  # the day key as published
    assert d["dip_nightly"]["tasks"]["batch_features"]["inlets"] == silver
    assert dags["days_to_close"] == {
        "2026-11-26 None": ["2026-11-25"],  # nothing published yet: the day before
        "2026-11-26 2026-11-25": [],  # published already: close_day skips
        "2026-11-26 2026-11-22": ["2026-11-23", "2026-11-24", "2026-11-25"],  # after an outage, oldest first
        "2026-11-26 2026-11-26": [],  # a run of a day published already (a rerun of an old run)
        "2026-12-01 2026-11-29": ["2026-11-30"],
        "2026-03-01 2026-02-27": ["2026-02-28"],
    }


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
    runs = dags["runs"]
    assert runs["ingest"]["ingest"]["bash_command"] == (
        f"{dip} ingest --source all --run-id dip_ingest/scheduled__2026-11-25T10:05:00+00:00/ingest/1"
        " --logical-date 2026-11-25T10:05:00+00:00 --env local"
    )
    assert runs["ingest"]["reconcile"]["bash_command"] == (
        f"{dip} reconcile --run-id dip_ingest/scheduled__2026-11-25T10:05:00+00:00/reconcile/1"
        " --logical-date 2026-11-25T10:05:00+00:00 --env local"
    )
    assert runs["nightly"]["quality_report"]["bash_command"] == (
        f"{dip} quality report --date 2026-11-25 --run-id"
        " dip_nightly/asset_triggered__2026-11-26T00:07:12+00:00/quality_report/1"
        " --logical-date 2026-11-26T00:07:12+00:00 --env local"
    )
    assert runs["nightly_manual"]["quality_report"]["bash_command"].startswith(
        f"{dip} quality report --date 2026-11-20 --run-id dip_nightly/"
    )
    assert runs["backfill"]["silver_rebuild"]["bash_command"] == (
        f"{dip} silver rebuild --from 2026-11-01 --to 2026-11-03 --env local"
    )


def test_train_gate(dags: dict) -> None:
    assert dags["runs"]["nightly"]["train_due"]["op_kwargs"] == {"day": "2026-11-25"}
    assert dags["runs"]["nightly_manual"]["train_due"]["op_kwargs"] == {"day": "2026-11-20"}
    gate = dags["train_due"]
    assert gate["2026-11-29 {}"] is True  # after Sunday's features
    assert gate['2026-11-25 {"force_train": true}'] is True
    assert gate["2026-11-25 {}"] is False  # a weekday, and the model uses the current feature set version
    train = dags["runs"]["nightly"]["train"]
    assert train["application"] == str(ROOT / "jobs" / "train.py")
    assert train["application_args"] == [
        "--env", "local",
        "--run-id", "dip_nightly/asset_triggered__2026-11-26T00:07:12+00:00/train/1",
        "--logical-date", "2026-11-26T00:07:12+00:00",
    ]  # fmt: skip
