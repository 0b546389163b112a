"""A real `airflow dags test` of dip_ingest (then dip_nightly) against the local stack and the API simulator.

Like on a cluster, everything runs from the built artefacts (`dip deploy dist`), not the source tree:
the jobs' Python has the dip wheel installed (third-party packages come from the dev venv), the DIP home,
job scripts and DAGs are the dist's. spark-submit tasks from Airflow's own venv run the jobs to success,
and lineage records every Spark job run. The chain between the two DAGs is Airflow's own: dip_ingest's
close_day publishes the day partition of the silver assets, Airflow queues a dip_nightly run for it, and the
scheduler's partition step creates that run (checked in the metadata DB; a task of it runs for the day).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from dip.config import Config, load_config
from tests.integration.helpers import Artefacts

DAG_TIMEOUT_S = 1500  # one dags test runs several spark-submits in sequence: ~6 min on an idle 2-core machine
pytestmark = [pytest.mark.integration, pytest.mark.slow, pytest.mark.timeout(DAG_TIMEOUT_S + 600)]
ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ROOT / ".venv-airflow" / "bin" / "airflow"
TT_IDS = ["_000LinaAbayasOpenId", "_000NoorModestOpenId", "_000DubaiAbayaOpenId"]


@pytest.fixture(scope="module")
def simulator() -> Iterator[str]:
    from dip_local.simulator import create_app
    from dip_local.simulator.server import background_server

    with background_server(create_app(42)) as url:
        yield url


@pytest.fixture(scope="module")
def airflow_env(
    stack: Config, simulator: str, artefacts: Artefacts, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, str]:
    """Airflow's environment from the dist: its own home, an isolated lake, state and topics, the simulator."""
    if not AIRFLOW.exists():
        pytest.skip(".venv-airflow does not exist: run `make airflow`")
    tmp_path = tmp_path_factory.mktemp("airflow_run")
    dist, manifest, python = artefacts.dist, artefacts.manifest, artefacts.python
    tag = uuid.uuid4().hex[:8]
    dip_env = {
        "DIP_HOME": str(dist),
        "DIP__JARS__DIR": str(stack.jars.dir),  # resolved by `make jars`; the dist ships no jars
        "DIP_ENV": "local",
        "DIP__LAKE__ROOT": (tmp_path / "lake").as_uri(),
        "DIP__STATE_DIR": str(tmp_path / "state"),
        "DIP__KAFKA__TOPICS__RAW_PREFIX": f"af{tag}.raw.",
        "DIP__KAFKA__TOPICS__DLQ": f"af{tag}.dlq",
        "DIP__KAFKA__TOPICS__PREDICTIONS": f"af{tag}.predictions",
        # Airflow 3.3.2's `dags test` fails at the end of a run of a DAG with a deadline (dag.test() hands
        # DagRun.update_state deadline dicts where it expects stored alert ids: apache/airflow#73428, fix in PR
        # #73430); the DAG integrity test checks the deadlines
        "DIP__DEPLOY__AIRFLOW__DEADLINE_MINUTES": json.dumps({"dip_ingest": 0, "dip_nightly": 0}),
        # never the weekly retraining day: one ingest round has no labels to train on
        "DIP__DEPLOY__AIRFLOW__TRAIN_WEEKDAY": str((TODAY.weekday() + 1) % 7),
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
    render = subprocess.run(
        [str(python.parent / "dip"), "deploy", "render", "--target", "airflow"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert render.returncode == 0, render.stdout + render.stderr
    spec = json.loads((tmp_path / "state" / "airflow" / "dip_spec.json").read_text(encoding="utf-8"))
    assert spec["jobs"]["stream_bronze"] == str(dist / "jobs" / "stream_bronze.py")
    assert sorted(spec["jobs"]) == sorted(manifest["jobs"])
    assert spec["env_vars"]["PYSPARK_PYTHON"] == str(python) and spec["dip"] == str(python.parent / "dip")
    for line in (tmp_path / "state" / "airflow" / "airflow.env").read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition("=")
        env[key] = value.strip("'")
    subprocess.run([str(AIRFLOW), "db", "migrate"], env=env, capture_output=True, check=True, timeout=180)
    # DAGs are paused when first seen, and a paused DAG is not queued by asset events: activate the consumer
    for command in (["dags", "reserialize"], ["dags", "unpause", "dip_nightly"]):
        subprocess.run([str(AIRFLOW), *command], env=env, capture_output=True, check=True, timeout=300)
    return env


def _airflow(env: dict[str, str], name: str, *args: str) -> str:
    """An ``airflow`` command; its output goes to a log file (kept on failure and timeout) and is returned."""
    log = Path(env["AIRFLOW_HOME"]) / f"{name}.log"
    with log.open("w", encoding="utf-8") as out:
        try:
            result = subprocess.run(
                [str(AIRFLOW), *args],
                env=env, cwd=env["AIRFLOW_HOME"], stdout=out, stderr=subprocess.STDOUT, timeout=DAG_TIMEOUT_S,
            )  # fmt: skip
        except subprocess.TimeoutExpired:
            pytest.fail(f"airflow {' '.join(args)} took over {DAG_TIMEOUT_S}s; log {log}:\n{_tail(log)}")
    assert result.returncode == 0, _tail(log)
    return log.read_text(encoding="utf-8")


def _dags_test(env: dict[str, str], dag_id: str, logical_date: str, *args: str) -> str:
    """``airflow dags test`` run to success."""
    name = f"dags_test_{dag_id}_{logical_date[:13].replace(':', '')}"  # one log per run
    output = _airflow(env, name, "dags", "test", dag_id, logical_date, *args)
    log = Path(env["AIRFLOW_HOME"]) / f"{name}.log"
    assert f"DagRun Finished: dag_id={dag_id}" in output and "state=success" in output, _tail(log)
    return output


def _chain(env: dict[str, str], *args: str) -> dict:
    """The asset chain in Airflow's metadata DB, read with Airflow's own models (airflow_chain_dump.py)."""
    result = subprocess.run(
        [str(AIRFLOW.parent / "python"), str(Path(__file__).with_name("airflow_chain_dump.py")), *args],
        env=env, cwd=env["AIRFLOW_HOME"], capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    line = next(x for x in result.stdout.splitlines() if x.startswith("CHAIN_JSON "))
    return json.loads(line.removeprefix("CHAIN_JSON "))


def _tail(log: Path, chars: int = 6000) -> str:
    return log.read_text(encoding="utf-8", errors="replace")[-chars:]


def _last_attempt(task_logs: Path) -> Path:
    """The log of a task's last try. Under load a try can fail before running (seen: the task supervisor's
    call to the API server timed out) and Airflow retries it: ``attempt=1.log`` then holds one line."""
    attempts = sorted(task_logs.glob("attempt=*.log"), key=lambda p: int(p.stem.split("=", 1)[1]))
    return attempts[-1] if attempts else task_logs / "attempt=1.log"


def _log_with(log: Path, *expected: str, timeout_s: float = 60) -> str:
    """A task log once it holds every ``expected`` text: Airflow may still be writing a finished task's
    log file when the run is reported done (a read right then once missed the last lines)."""
    deadline = time.monotonic() + timeout_s
    while True:
        text = log.read_text(encoding="utf-8", errors="replace") if log.exists() else ""
        if all(e in text for e in expected) or time.monotonic() > deadline:
            return text
        time.sleep(0.5)


TODAY = datetime.now(UTC).date()
SILVER_ASSETS = [
    f"dip.silver_{t}"
    for t in ("account_metrics", "accounts", "audience", "post_captions", "post_metrics", "posts", "predictions")
]
# the hourly run just after midnight: the APIs are fetched now (data of today), and today is the day it closes
INGEST_RUN = f"{(TODAY + timedelta(days=1)).isoformat()}T00:05:00+00:00"


def test_dip_ingest_runs_green_and_records_lineage(airflow_env: dict[str, str], spark) -> None:
    from dip import lineage

    output = _dags_test(airflow_env, "dip_ingest", INGEST_RUN)
    assert "reconcile: 9 balanced, 0 unbalanced" in output or ", 0 unbalanced" in output
    assert f"silver day partitions published: {TODAY.isoformat()}" in output

    config = load_config(environ=airflow_env)
    runs = {r["job"]: r for r in lineage.recent_runs(spark, config)}
    assert sorted(runs) == ["ingest", "reconcile", "stream_bronze", "stream_silver"]  # ingest's: by delta-rs
    assert all(r["status"] == "success" for r in runs.values())
    assert runs["ingest"]["parent_run"].startswith("dip_ingest/") and runs["ingest"]["parent_run"].endswith("/ingest/1")
    assert runs["ingest"]["logical_date"] == INGEST_RUN and runs["ingest"]["counts"]["records"] > 0
    assert runs["reconcile"]["parent_run"].endswith("/reconcile/1") and runs["reconcile"]["counts"]["unbalanced"] == 0
    assert runs["stream_bronze"]["parent_run"].startswith("dip_ingest/")
    assert runs["stream_bronze"]["parent_run"].endswith("/stream_bronze/1")
    assert runs["stream_bronze"]["logical_date"] == INGEST_RUN
    topics = {r["name"] for r in runs["stream_bronze"]["reads"] if r["kind"] == "kafka"}
    prefix = airflow_env["DIP__KAFKA__TOPICS__RAW_PREFIX"]
    assert topics == {f"{prefix}instagram", f"{prefix}tiktok"}

    origin = lineage.table_origin(spark, config, "silver_posts")
    assert origin.run["job"] == "stream_silver"
    assert [(u.table, u.run["job"]) for u in origin.upstream] == [("bronze_events", "stream_bronze")]


def test_ingest_publishes_the_day_and_airflow_schedules_nightly_for_it(airflow_env: dict[str, str]) -> None:
    """Runs after the ingest test: its close_day events make Airflow queue a dip_nightly run for the day, and the
    scheduler's partition step creates it (asset-triggered, partition key = the day)."""
    day = TODAY.isoformat()
    chain = _chain(airflow_env, "--schedule")
    assert chain["events"] == [
        {"asset": a, "partition_key": day, "dag_id": "dip_ingest", "task_id": "close_day"} for a in SILVER_ASSETS
    ]
    assert chain["events_without_partition"] == 0  # stream_silver publishes nothing itself
    assert chain["closed_through"] == day
    assert chain["queued"] == [{"dag_id": "dip_nightly", "partition_key": day, "run_created": False}]
    run_id = chain["created_runs"][0].pop("run_id")
    assert run_id.startswith("asset_triggered__")
    assert chain["created_runs"] == [
        {
            "dag_id": "dip_nightly", "run_type": "asset_triggered", "partition_key": day, "logical_date": None,
            "state": "queued", "consumed_events": [day] * len(SILVER_ASSETS),
        }
    ]  # fmt: skip
    assert chain["queued_after"] == [{"dag_id": "dip_nightly", "partition_key": day, "run_created": True}]

    # a day is published once: the next hourly run (its other tasks marked done, they were run above) skips
    next_hour = INGEST_RUN.replace("T00:05", "T01:05")
    rerun = _dags_test(airflow_env, "dip_ingest", next_hour, "--mark-success-pattern", "(?!close_day$).*")
    assert f"no UTC day to close: silver is published through {day}" in rerun
    assert len(_chain(airflow_env)["events"]) == len(SILVER_ASSETS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _scheduler(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """Airflow as deployed, on this machine: the api-server (tasks report to its execution API) and the scheduler
    with the LocalExecutor. Stopped (process groups) on exit; their logs stay in AIRFLOW_HOME."""
    port = _free_port()
    env = env | {
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(_free_port()),
    }
    home = Path(env["AIRFLOW_HOME"])
    procs = []
    try:
        for name, args in (
            ("api-server", ["api-server", "--host", "127.0.0.1", "--port", str(port)]),
            ("scheduler", ["scheduler"]),
        ):
            with (home / f"{name}.log").open("w", encoding="utf-8") as out:
                options = {"env": env, "cwd": home, "stdout": out, "stderr": out, "start_new_session": True}
                procs.append(subprocess.Popen([str(AIRFLOW), *args], **options))
        yield env
    finally:
        for proc in procs:
            with suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


def _nightly_run(env: dict[str, str], timeout_s: float) -> dict:
    """The asset-triggered dip_nightly run, once it has finished."""
    deadline = time.monotonic() + timeout_s
    run = None
    while time.monotonic() < deadline:
        run = next((r for r in _chain(env)["nightly_runs"] if r["run_type"] == "asset_triggered"), None)
        if run is not None and run["state"] in {"success", "failed"}:
            return run
        time.sleep(10)
    home = Path(env["AIRFLOW_HOME"])
    pytest.fail(f"the scheduler did not finish {run} in {timeout_s}s:\n{_tail(home / 'scheduler.log')}")


def test_the_scheduler_runs_the_asset_triggered_nightly_run(airflow_env: dict[str, str], spark) -> None:
    """Runs after the chain test: `airflow scheduler` executes the dip_nightly run Airflow created for the published
    day: features, gold tables, online push, pending deletion requests (none), maintenance and quality report of that
    day (from the partition key); train is not due."""
    from dip import lineage

    config = load_config(environ=airflow_env)
    fsv = str(config.features.feature_set_version)
    _airflow(airflow_env, "variables_set", "variables", "set", "dip_trained_feature_set_version", fsv)
    day = TODAY.isoformat()
    with _scheduler(airflow_env) as env:
        run = _nightly_run(env, DAG_TIMEOUT_S)
    logs = Path(airflow_env["AIRFLOW_HOME"]) / "logs" / "dag_id=dip_nightly" / f"run_id={run['run_id']}"
    task_log = {t: _last_attempt(logs / f"task_id={t}") for t in run["tasks"]}
    assert run["state"] == "success", {t: _tail(f, 2000) for t, f in task_log.items() if f.exists()}
    assert (run["partition_key"], run["tasks"]) == (
        day,
        {"batch_features": "success", "gold": "success", "push_online": "success", "forget_pending": "success",
         "maintain": "success", "quality_report": "success", "train_due": "success", "train": "skipped"},
    )  # fmt: skip
    features = _log_with(task_log["batch_features"], f"--date {day}", "features: 1 day(s) computed")
    assert f"--date {day}" in features and "features: 1 day(s) computed" in features
    assert f"--date {day}" in _log_with(task_log["quality_report"], f"--date {day}")
    assert f"train not due for {day}: " in _log_with(task_log["train_due"], f"train not due for {day}: ")

    runs = [
        r
        for r in lineage.recent_runs(spark, config)
        if (r["parent_run"] or "").startswith(f"dip_nightly/{run['run_id']}/")
    ]
    by_job = {r["job"]: r for r in runs}
    jobs = ["batch_features", "forget", "gold", "maintain", "push_online", "quality_report"]
    assert sorted(by_job) == jobs and len(runs) == len(jobs)
    assert by_job["gold"]["params"] == {"from": day, "to": day}
    assert by_job["forget"]["counts"]["lake_rows"] == 0  # no deletion request queued
    assert by_job["maintain"]["counts"]["tables"] > 0
    for job, r in by_job.items():
        task = {"forget": "forget_pending"}.get(job, job)
        try_number = task_log[task].stem.split("=", 1)[1]  # the try that ran (a retried try never started)
        assert (r["status"], r["parent_run"]) == ("success", f"dip_nightly/{run['run_id']}/{task}/{try_number}")
    assert by_job["batch_features"]["params"] == {"from": day, "to": day, "force": "false"}
    assert {r["name"] for r in by_job["batch_features"]["reads"]} == {
        "silver_posts", "silver_post_metrics", "silver_post_captions", "silver_account_metrics"
    }  # fmt: skip
    assert by_job["push_online"]["counts"]["post_features_daily"] > 0
    origin = lineage.table_origin(spark, config, "post_features_daily")
    assert origin.run["parent_run"] == by_job["batch_features"]["parent_run"]
