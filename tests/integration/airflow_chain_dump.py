"""Run by Airflow's own venv against a metadata DB: how dip_ingest's day partitions chain to dip_nightly.

Prints JSON with the partitioned silver asset events, the partition runs Airflow queued for them (APDRs),
the published-through Variable, the dip_nightly runs with their task states, and, with ``--schedule``, the
Dag runs the scheduler's own partition step creates from them (the code path `airflow scheduler` runs each
loop; nothing is executed).
Usage: .venv-airflow/bin/python airflow_chain_dump.py [--schedule]
"""

from __future__ import annotations

import json
import sys
from typing import Any

from airflow.jobs.job import Job
from airflow.jobs.scheduler_job_runner import SchedulerJobRunner
from airflow.models.asset import AssetEvent, AssetModel, AssetPartitionDagRun
from airflow.models.dagrun import DagRun
from airflow.models.taskinstance import TaskInstance
from airflow.models.variable import Variable
from airflow.utils.session import create_session
from sqlalchemy import select


def _events(session: Any) -> list[dict[str, Any]]:
    rows = session.execute(
        select(AssetModel.name, AssetEvent.partition_key, AssetEvent.source_dag_id, AssetEvent.source_task_id)
        .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
        .order_by(AssetModel.name, AssetEvent.partition_key)
    )
    return [{"asset": a, "partition_key": k, "dag_id": d, "task_id": t} for a, k, d, t in rows]


def _queued(session: Any) -> list[dict[str, Any]]:
    rows = session.scalars(select(AssetPartitionDagRun).order_by(AssetPartitionDagRun.id))
    return [
        {"dag_id": r.target_dag_id, "partition_key": r.partition_key, "run_created": r.created_dag_run_id is not None}
        for r in rows
    ]


def _value(enum: Any) -> str | None:
    return None if enum is None else str(getattr(enum, "value", enum))


def _nightly_runs(session: Any) -> list[dict[str, Any]]:
    runs = session.scalars(select(DagRun).where(DagRun.dag_id == "dip_nightly").order_by(DagRun.id))
    out = []
    for run in runs:
        tis = session.scalars(
            select(TaskInstance).where(TaskInstance.dag_id == run.dag_id, TaskInstance.run_id == run.run_id)
        )
        out.append(
            {
                "run_id": run.run_id,
                "run_type": _value(run.run_type),
                "state": _value(run.state),
                "partition_key": run.partition_key,
                "tasks": {ti.task_id: _value(ti.state) for ti in tis},
            }
        )
    return out


def _schedule(session: Any) -> list[dict[str, Any]]:
    """One pass of the scheduler's partition-driven run creation; the runs it created."""
    runner = SchedulerJobRunner(job=Job(job_type=SchedulerJobRunner.job_type), num_runs=1)
    created = runner._create_dagruns_for_partitioned_asset_dags(session=session)
    session.flush()
    runs = session.scalars(select(DagRun).where(DagRun.dag_id.in_(created)).order_by(DagRun.id))
    return [
        {
            "dag_id": r.dag_id,
            "run_id": r.run_id,
            "run_type": _value(r.run_type),
            "partition_key": r.partition_key,
            "logical_date": r.logical_date.isoformat() if r.logical_date else None,
            "state": _value(r.state),
            "consumed_events": sorted(e.partition_key or "" for e in r.consumed_asset_events),
        }
        for r in runs
    ]


def main(schedule: bool) -> None:
    out: dict[str, Any] = {}
    with create_session() as session:
        out["events"] = [e for e in _events(session) if e["partition_key"] is not None]
        out["events_without_partition"] = len(_events(session)) - len(out["events"])
        out["queued"] = _queued(session)
        out["closed_through"] = Variable.get("dip_silver_closed_through", default_var=None)
        out["nightly_runs"] = _nightly_runs(session)
        if schedule:
            out["created_runs"] = _schedule(session)
            out["queued_after"] = _queued(session)
    print("CHAIN_JSON " + json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main("--schedule" in sys.argv[1:])
