"""Run by Airflow's own venv: load the DAG folder and print JSON of DAGs, tasks, edges and rendered templates.

Usage: .venv-airflow/bin/python dagbag_dump.py <dags folder> <runs JSON: {dag_id: {"logical_date", "conf"}}> <out>
(Airflow logs to stdout, so the JSON goes to the file <out>.)
"""

from __future__ import annotations

import copy
import json
import sys
from types import SimpleNamespace
from typing import Any

import pendulum
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.execution_time import macros


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


def _context(dag: Any, task: Any, logical_date: pendulum.DateTime, conf: dict[str, Any]) -> dict[str, Any]:
    run_id = f"scheduled__{logical_date.isoformat()}"
    params = copy.deepcopy(dag.params)
    for key, value in conf.items():
        params[key] = value
    params = params.validate()
    return {
        "dag": dag,
        "task": task,
        "run_id": run_id,
        "ti": SimpleNamespace(try_number=1, dag_id=dag.dag_id, task_id=task.task_id, run_id=run_id),
        "logical_date": logical_date,
        "data_interval_start": logical_date,
        "ds": logical_date.strftime("%Y-%m-%d"),
        "ts": logical_date.isoformat(),
        "params": params,
        "macros": macros,
    }


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else ([] if value is None else [value])


def _deadline(alert: Any) -> dict[str, Any]:
    callback = alert.callback
    return {
        "reference": type(alert.reference).__name__,
        "interval_s": alert.interval.total_seconds(),
        "callback": getattr(callback, "path", None) or str(getattr(callback, "callback_callable", callback)),
        "kwargs": getattr(callback, "kwargs", None),
    }


def main(folder: str, runs: dict[str, dict[str, Any]], target: str) -> None:
    bag = DagBag(dag_folder=folder)
    out: dict[str, Any] = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
    for dag_id, dag in sorted(bag.dags.items()):
        run = runs.get(dag_id, {})
        logical_date = pendulum.parse(run.get("logical_date", "2026-11-25T00:00:00+00:00"))
        tasks = {}
        for task in dag.tasks:
            rendered = None
            if dag_id in runs:
                task.render_template_fields(_context(dag, task, logical_date, run.get("conf", {})))
                rendered = {f: _plain(getattr(task, f)) for f in task.template_fields}
            tasks[task.task_id] = {
                "operator": type(task).__name__,
                "upstream": sorted(task.upstream_task_ids),
                "downstream": sorted(task.downstream_task_ids),
                "retries": task.retries,
                "retry_exponential_backoff": float(task.retry_exponential_backoff or 0),
                "execution_timeout_s": task.execution_timeout.total_seconds() if task.execution_timeout else None,
                "on_failure_callback": [c.__name__ for c in (task.on_failure_callback or [])]
                if isinstance(task.on_failure_callback, list)
                else [getattr(task.on_failure_callback, "__name__", None)],
                "outlets": [a.uri for a in task.outlets],
                "inlets": [a.uri for a in task.inlets],
                "rendered": rendered,
            }
        out["dags"][dag_id] = {
            "schedule": type(dag.timetable).__name__,
            "timetable": getattr(dag.timetable, "expression", None),
            "catchup": dag.catchup,
            "max_active_runs": dag.max_active_runs,
            "tags": sorted(dag.tags),
            "topological": [t.task_id for t in dag.topological_sort()],
            "deadlines": [_deadline(d) for d in _as_list(dag.deadline)],
            "tasks": tasks,
        }
    if "dip_common" in sys.modules:
        common = sys.modules["dip_common"]
        out["train_due"] = {}
        for day in ("2026-11-29T01:30:00+00:00", "2026-11-25"):
            try:
                out["train_due"][day] = common.train_due(pendulum.parse(day), {})
            except Exception as exc:  # Variable lookups need a running task outside of weekly days
                out["train_due"][day] = f"error: {type(exc).__name__}"
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(out, fh, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])
