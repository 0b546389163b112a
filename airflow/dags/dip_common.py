"""Shared defaults of the DIP DAGs: the spec rendered by `dip deploy render --target airflow`, default_args,
operator keyword sets, assets and the failure alert. DAG files build operators from these and hold no logic.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, AsyncCallback, DeadlineAlert, DeadlineReference, Variable

log = logging.getLogger("dip.alerts")

# Written by `make airflow` (dip deploy render --target airflow) from DIP's config: spark-submit, conf, jars, paths.
SPEC: dict[str, Any] = json.loads((Path(os.environ["AIRFLOW_HOME"]) / "dip_spec.json").read_text(encoding="utf-8"))

START = pendulum.datetime(2026, 11, 1, tz="UTC")
TAGS = ["dip"]
DS = "{{ ds }}"
TRAIN_WEEKDAY = 6  # Sunday: weekly retraining
TRAINED_FSV_VARIABLE = "dip_trained_feature_set_version"
# the orchestrator's reference of a job run, recorded in the lineage table <lake>/_runs
RUN_REF = "{{ dag.dag_id }}/{{ run_id }}/{{ task.task_id }}/{{ ti.try_number }}"

SILVER = [Asset(name=f"dip.{name}", uri=uri, group="silver") for name, uri in sorted(SPEC["assets"]["silver"].items())]
FEATURES = [
    Asset(name=f"dip.{name}", uri=uri, group="features") for name, uri in sorted(SPEC["assets"]["features"].items())
]


def _alert_gauge(metric: str, help_text: str, file_stem: str, labels: str) -> None:
    """Write one Prometheus textfile gauge (now, in seconds) atomically."""
    folder = Path(SPEC["metrics_textfile_dir"])
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{file_stem}.prom"
    text = f"# HELP {metric} {help_text}\n# TYPE {metric} gauge\n{metric}{{{labels}}} {time.time():.0f}\n"
    tmp = target.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(target)


def alert(context: dict[str, Any]) -> None:
    """Failure callback: one greppable alert line and a Prometheus textfile gauge per failed task."""
    ti = context["ti"]
    error = context.get("exception")
    log.error(
        "DIP ALERT task failed: dag=%s task=%s run=%s try=%s error=%s",
        ti.dag_id, ti.task_id, ti.run_id, ti.try_number, f"{type(error).__name__}: {error}" if error else "-",
    )  # fmt: skip
    _alert_gauge(
        "dip_airflow_task_failed_timestamp_seconds", "When a DIP Airflow task last failed.",
        f"airflow_{ti.dag_id}__{ti.task_id}", f'dag="{ti.dag_id}",task="{ti.task_id}"',
    )  # fmt: skip


async def deadline_missed(dag_id: str, minutes: int, **context: Any) -> None:
    """Deadline callback (run by the Triggerer): an alert line and a gauge when a DAG run overran its deadline."""
    log.error("DIP ALERT deadline missed: dag=%s not finished %s min after it was queued", dag_id, minutes)
    _alert_gauge(
        "dip_airflow_deadline_missed_timestamp_seconds", "When a DIP DAG run last missed its deadline.",
        f"airflow_{dag_id}__deadline", f'dag="{dag_id}"',
    )  # fmt: skip


def deadline(dag_id: str) -> DeadlineAlert | None:
    """The DAG's deadline alert from config (``deploy.airflow.deadline_minutes``); None when it has none."""
    minutes = SPEC.get("deadline_minutes", {}).get(dag_id)
    if not minutes:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT,
        interval=timedelta(minutes=minutes),
        callback=AsyncCallback(deadline_missed, kwargs={"dag_id": dag_id, "minutes": minutes}),
    )


DEFAULT_ARGS: dict[str, Any] = {
    "owner": "dip",
    "retries": 2,
    "retry_delay": timedelta(minutes=1),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=15),
    "execution_timeout": timedelta(minutes=30),
    "on_failure_callback": alert,
}


def spark_job(job: str, *args: str) -> dict[str, Any]:
    """SparkSubmitOperator arguments of a DIP job: spark-submit of the jobs' venv with DIP's conf and jars.

    Every job records its run in the lineage table under the orchestrator's run reference and logical date.
    """
    lineage_args = ["--run-id", RUN_REF, "--logical-date", "{{ ts }}"]
    return {
        "application": SPEC["jobs"][job],
        "name": f"dip-{job}",
        "conn_id": SPEC["conn_id"],
        "spark_binary": SPEC["spark_binary"],
        "conf": SPEC["conf"],
        "jars": SPEC["jars"],
        "packages": SPEC["packages"],
        "env_vars": SPEC["env_vars"],
        "application_args": [*args, "--env", SPEC["env"], *lineage_args],
    }


def dip_cli(*args: str) -> dict[str, Any]:
    """BashOperator arguments running the ``dip`` CLI of the jobs' venv (exit 99 means skipped)."""
    return {
        "bash_command": " ".join([SPEC["dip"], *args, "--env", SPEC["env"]]),
        "env": {k: v for k, v in SPEC["env_vars"].items() if k.startswith("DIP")},
        "append_env": True,
        "cwd": SPEC["dip_home"],
    }


def train_due(logical_date: pendulum.DateTime, params: dict[str, Any]) -> bool:
    """ShortCircuit condition of train: weekly, on request, or when the feature set version changed."""
    application = Path(SPEC["jobs"]["train"])
    if not application.exists():
        log.warning("train skipped: %s does not exist yet", application)
        return False
    if params.get("force_train") or logical_date.weekday() == TRAIN_WEEKDAY:
        return True
    trained_on = Variable.get(TRAINED_FSV_VARIABLE, default=None)
    if trained_on == str(SPEC["feature_set_version"]):
        log.info("train not due: not the weekly day and the model already uses feature set v%s", trained_on)
        return False
    return True


def trained(context: dict[str, Any]) -> None:
    """Success callback of train: remember the feature set version the model was trained on."""
    Variable.set(TRAINED_FSV_VARIABLE, str(SPEC["feature_set_version"]))
