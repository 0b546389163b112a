"""Shared defaults of the DIP DAGs: the spec rendered by `dip deploy render --target airflow`, default_args,
operator keyword sets, assets, the callables of the Python tasks (publishing silver days, the train gate)
and the alerts. DAG files build operators from these and hold no logic.
"""

from __future__ import annotations

import json
import logging
import os
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.sdk import Asset, AsyncCallback, DeadlineAlert, DeadlineReference, Variable
from airflow.sdk.exceptions import AirflowSkipException

log = logging.getLogger("dip.airflow")

# Written by `make airflow` (dip deploy render --target airflow) from DIP's config: spark-submit, conf, jars, paths.
SPEC: dict[str, Any] = json.loads((Path(os.environ["AIRFLOW_HOME"]) / "dip_spec.json").read_text(encoding="utf-8"))

START = pendulum.datetime(2026, 11, 1, tz="UTC")
TAGS = ["dip"]
# The UTC day a nightly run processes: the silver day partition that triggered it; a manual run takes the
# `day` param, else the day before its logical date (as a run just after midnight would).
DAY = "{{ partition_key or params.day or macros.ds_add((dag_run.logical_date or dag_run.run_after) | ds, -1) }}"
TRAIN_WEEKDAY: int | None = SPEC.get("train_weekday", 6)  # weekly retraining after this day (6: Sunday)
TRAINED_FSV_VARIABLE = "dip_trained_feature_set_version"
CLOSED_THROUGH_VARIABLE = "dip_silver_closed_through"  # the newest UTC day whose silver partitions are published
# the orchestrator's reference of a job run and its date (asset-triggered runs have no logical date: then when
# the run was triggered), recorded in the lineage table <lake>/_runs
RUN_REF = "{{ dag.dag_id }}/{{ run_id }}/{{ task.task_id }}/{{ ti.try_number }}"
RUN_DATE = "{{ (dag_run.logical_date or dag_run.run_after) | ts }}"
LINEAGE_ARGS = ("--run-id", RUN_REF, "--logical-date", RUN_DATE)  # every job's lineage row names its task run

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


def openlineage_provider() -> bool:
    """Whether the OpenLineage provider is installed: then Spark jobs get the parent run in their Spark conf."""
    try:
        import airflow.providers.openlineage  # noqa: F401
    except ImportError:
        return False
    return True


def spark_job(job: str, *args: str) -> dict[str, Any]:
    """SparkSubmitOperator arguments of a DIP job: spark-submit of the jobs' venv with DIP's conf and jars.

    Every job records its run in the lineage table under the orchestrator's run reference and logical date. With
    the OpenLineage provider installed, the operator also injects the task as the parent run
    (``spark.openlineage.parentJobNamespace/parentJobName/parentRunId``), which DIP's runner puts on its
    OpenLineage events; without it there is nothing to inject (and no warning per task).
    """
    return {
        "application": SPEC["jobs"][job],
        "name": f"dip-{job}",
        "conn_id": SPEC["conn_id"],
        "spark_binary": SPEC["spark_binary"],
        "conf": SPEC["conf"],
        "jars": SPEC["jars"],
        "packages": SPEC["packages"],
        "env_vars": SPEC["env_vars"],
        "application_args": [*args, "--env", SPEC["env"], *LINEAGE_ARGS],
        "openlineage_inject_parent_job_info": openlineage_provider(),
    }


def dip_cli(*args: str) -> dict[str, Any]:
    """BashOperator arguments running the ``dip`` CLI of the jobs' venv (exit 99 means skipped)."""
    return {
        "bash_command": " ".join([SPEC["dip"], *args, "--env", SPEC["env"]]),
        "env": {k: v for k, v in SPEC["env_vars"].items() if k.startswith("DIP")},
        "append_env": True,
        "cwd": SPEC["dip_home"],
    }


def days_to_close(run_day: date, closed_through: date | None) -> list[date]:
    """The UTC days that ended before an ingest run of ``run_day`` and are not published yet (oldest first).

    An ingest run fetches the APIs' state as of its start, so once a run of a later day has passed reconcile
    the day before holds all it will ever get. With nothing published yet, that is the day before ``run_day``.
    """
    first = closed_through + timedelta(days=1) if closed_through else run_day - timedelta(days=1)
    return [first + timedelta(days=n) for n in range((run_day - first).days)]


def close_days(outlet_events: Any, dag_run: Any, logical_date: pendulum.DateTime | None = None, **_: Any) -> list[str]:
    """Publish the silver tables' finished UTC days as asset partitions (one dip_nightly run each); skip if none."""
    run_day = (logical_date or dag_run.run_after).astimezone(pendulum.UTC).date()
    closed = Variable.get(CLOSED_THROUGH_VARIABLE, default=None)
    days = [d.isoformat() for d in days_to_close(run_day, date.fromisoformat(closed) if closed else None)]
    if not days:
        raise AirflowSkipException(f"no UTC day to close: silver is published through {closed}")
    for asset in SILVER:
        outlet_events[asset].add_partitions(days)
    Variable.set(CLOSED_THROUGH_VARIABLE, days[-1])
    log.info("silver day partitions published: %s", ", ".join(days))
    return days


def train_due(day: str, params: dict[str, Any]) -> bool:
    """ShortCircuit condition of train: weekly (after the features of ``deploy.airflow.train_weekday``), on
    request, or when the feature set version changed."""
    fsv = str(SPEC["feature_set_version"])
    if params.get("force_train"):
        log.info("train due for %s: forced", day)
        return True
    if date.fromisoformat(day).weekday() == TRAIN_WEEKDAY:
        log.info("train due for %s: the weekly retraining day", day)
        return True
    trained_on = Variable.get(TRAINED_FSV_VARIABLE, default=None)
    if trained_on == fsv:
        log.info("train not due for %s: not the weekly day and the model already uses feature set v%s", day, fsv)
        return False
    log.info("train due for %s: feature set v%s, the model was trained on v%s", day, fsv, trained_on)
    return True


def trained(context: dict[str, Any]) -> None:
    """Success callback of train: remember the feature set version the model was trained on."""
    Variable.set(TRAINED_FSV_VARIABLE, str(SPEC["feature_set_version"]))
