"""Run by Airflow's own venv: load the DAG folder and print JSON of DAGs, tasks, edges and rendered templates.

Usage: .venv-airflow/bin/python dagbag_dump.py <dags folder> <runs JSON> <out>
runs JSON: {name: {"dag_id", "logical_date" (null: an asset-triggered run), "run_after", "partition_key", "conf"}}.
(Airflow logs to stdout, so the JSON goes to the file <out>.)
"""

from __future__ import annotations

import copy
import json
import sys
from datetime import date
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


def _context(dag: Any, task: Any, run: dict[str, Any]) -> dict[str, Any]:
    """The template context the Task SDK builds (keys that depend on the logical date only when it has one)."""
    logical_date = pendulum.parse(run["logical_date"]) if run.get("logical_date") else None
    run_after = pendulum.parse(run.get("run_after") or run["logical_date"])
    kind = "scheduled" if logical_date else "asset_triggered"
    run_id = f"{kind}__{(logical_date or run_after).isoformat()}"
    params = copy.deepcopy(dag.params)
    for key, value in run.get("conf", {}).items():
        params[key] = value
    params = params.validate()
    partition_key = run.get("partition_key")
    context = {
        "dag": dag,
        "task": task,
        "run_id": run_id,
        "ti": SimpleNamespace(try_number=1, dag_id=dag.dag_id, task_id=task.task_id, run_id=run_id),
        "dag_run": SimpleNamespace(run_id=run_id, run_after=run_after, logical_date=logical_date,
                                   partition_key=partition_key),
        "partition_key": partition_key,
        "params": params,
        "macros": macros,
    }  # fmt: skip
    if logical_date:
        context |= {
            "logical_date": logical_date,
            "data_interval_start": logical_date,
            "ds": logical_date.strftime("%Y-%m-%d"),
            "ts": logical_date.isoformat(),
        }
    return context


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


def _render(dag: Any, run: dict[str, Any]) -> dict[str, Any]:
    """Every task's templated fields rendered for one run (on copies: the DAG's tasks stay templates)."""
    rendered = {}
    for task in dag.tasks:
        task = copy.copy(task)
        task.render_template_fields(_context(dag, task, run))
        rendered[task.task_id] = {f: _plain(getattr(task, f)) for f in task.template_fields}
    return rendered


def main(folder: str, runs: dict[str, dict[str, Any]], target: str) -> None:
    bag = DagBag(dag_folder=folder)
    out: dict[str, Any] = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
    out["runs"] = {name: _render(bag.dags[run["dag_id"]], run) for name, run in sorted(runs.items())}
    for dag_id, dag in sorted(bag.dags.items()):
        tasks = {}
        for task in dag.tasks:
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
            }
        timetable = dag.timetable
        condition = getattr(timetable, "asset_condition", None)
        out["dags"][dag_id] = {
            "schedule": type(timetable).__name__,
            "timetable": getattr(timetable, "expression", None),
            "schedule_assets": [a.uri for a in condition.objects] if condition is not None else None,
            "schedule_condition": type(condition).__name__ if condition is not None else None,
            "partition_mapper": type(getattr(timetable, "default_partition_mapper", None)).__name__,
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
        for day, params in (("2026-11-29", {}), ("2026-11-25", {"force_train": True}), ("2026-11-25", {})):
            key = f"{day} {json.dumps(params)}"
            try:
                out["train_due"][key] = common.train_due(day, params)
            except Exception as exc:  # Variable lookups need a running task outside of weekly days
                out["train_due"][key] = f"error: {type(exc).__name__}"
        out["days_to_close"] = {
            f"{run_day} {closed}": [
                d.isoformat()
                for d in common.days_to_close(date.fromisoformat(run_day), closed and date.fromisoformat(closed))
            ]
            for run_day, closed in (
                ("2026-11-26", None), ("2026-11-26", "2026-11-25"), ("2026-11-26", "2026-11-22"),
                ("2026-11-26", "2026-11-26"), ("2026-12-01", "2026-11-29"), ("2026-03-01", "2026-02-27"),
            )
        }  # fmt: skip
    with open(target, "w", encoding="utf-8") as fh:
        json.dump(out, fh, sort_keys=True)


if __name__ == "__main__":
    main(sys.argv[1], json.loads(sys.argv[2]), sys.argv[3])
