"""One way to run a job, whichever door it comes in by (the ``dip`` CLI, ``jobs/*.py`` under spark-submit or
Airflow, the demo): the same lineage row in ``<lake>/_runs``, OpenLineage START/COMPLETE/FAIL events, ``dip_job_*``
metrics (duration, success, failures and the run's counts), a trace span, and one closing line.

A job declares what it is (:class:`Job`); its entry point wraps the work in :func:`run_job` and fills the counts::

    with run_job(STREAM_BRONZE, config, lambda: build_session(config, app_name="dip-stream-bronze")) as run:
        summary = run_stream_bronze(run.spark, config, trigger)
        run.counts.update(summary.totals(STREAM_BRONZE.counts))
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from dip import lineage
from dip.config import Config
from dip.observability.jobs import JobMetrics, job_run
from dip.observability.tracing import span
from dip.openlineage_events import emit, parent_from, run_event
from dip.tables import Table

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from pyspark.sql import SparkSession

SessionFactory = Callable[[], "SparkSession"]


@dataclass(frozen=True)
class Job:
    """What a job is: its name, the tables it reads and writes, its streaming queries (each with the Delta table it
    reads, None for Kafka: what they consumed is read from their checkpoints) and the names of the counts it reports.
    """

    name: str
    reads: Sequence[Table] = ()
    writes: Sequence[Table] = ()
    streams: Mapping[str, Table | None] = field(default_factory=dict)
    counts: Sequence[str] = ()


@dataclass
class JobRun:
    """A run in progress: its Spark session (None for a job without one), lineage record, counts and params."""

    job: Job
    spark: SparkSession | None
    record: lineage.RunRecord
    registry: CollectorRegistry  # the run's metrics registry: a job's own metrics here are exported with dip_job_*

    @property
    def counts(self) -> dict[str, int]:
        """Filled by the job; they go to the lineage row, ``dip_job_count`` and the closing line."""
        return self.record.counts

    @counts.setter
    def counts(self, counts: dict[str, int]) -> None:
        self.record.counts = dict(counts)

    @property
    def params(self) -> dict[str, str]:
        return self.record.params

    @property
    def run_id(self) -> str:
        return self.record.run_id


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """``--env`` and the orchestrator's ``--run-id`` / ``--logical-date`` for a ``jobs/*.py`` parser."""
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    lineage.add_arguments(parser)


def _spark_conf(spark: SparkSession | None) -> dict[str, str]:
    return dict(spark.sparkContext.getConf().getAll()) if spark is not None else {}


def _uris(config: Config, tables: Sequence[Table]) -> list[str]:
    return [t.path(config) for t in tables]


@contextmanager
def run_job(
    job: Job,
    config: Config,
    spark: SparkSession | SessionFactory | None = None,
    *,
    parent_run: str | None = None,
    logical_date: str | None = None,
    args: argparse.Namespace | None = None,
    metrics: JobMetrics | None = None,
    registry: CollectorRegistry | None = None,
    echo: Callable[[str], Any] = print,
) -> Iterator[JobRun]:
    """Run the ``with`` body as one run of ``job``: recorded in lineage and OpenLineage, measured, traced, summed up.

    ``spark`` is a session, a factory called inside the run (a session that fails to start is a failed run in the
    ``dip_job_*`` metrics; with no session there is nothing to write its lineage row with), or None for a job
    without Spark. ``args`` (from :func:`add_job_arguments`) supplies the orchestrator's run
    reference and logical date unless given as keywords. Pass ``metrics``/``registry`` to export the job's own
    metrics in the same file or Pushgateway group. The body's exception propagates unchanged after being recorded.
    """
    parent_run = parent_run or getattr(args, "parent_run", None)
    logical_date = logical_date or getattr(args, "logical_date", None)
    with job_run(job.name, config, metrics=metrics, registry=registry) as timing:
        with span("dip.stage.session", **{"dip.job": job.name}):
            session = spark() if callable(spark) else spark
        parent = parent_from(_spark_conf(session))
        record: lineage.RunRecord | None = None
        try:
            with lineage.recorded_run(
                session,
                config,
                job.name,
                reads=job.reads,
                writes=job.writes,
                streams=job.streams,
                parent_run=parent_run,
                logical_date=logical_date,
                echo=echo,
            ) as record:
                events = {"job": job.name, "run_id": record.run_id, "parent": parent}
                inputs, outputs = _uris(config, job.reads), _uris(config, job.writes)
                emit(config, lambda: run_event(config, "START", at=record.started_at, inputs=inputs, **events))
                try:
                    yield JobRun(job, session, record, timing.metrics.registry)
                finally:
                    timing.metrics.record_counts(job.name, record.counts)
        finally:
            if record is not None:
                state = "COMPLETE" if record.status == lineage.SUCCESS else "FAIL"
                ended = record.ended_at or datetime.now(UTC)
                error = record.error
                emit(config, lambda: run_event(config, state, at=ended, outputs=outputs, error=error, **events))
    counts = ", ".join(f"{k} {v}" for k, v in record.counts.items()) if record else ""
    where = timing.metrics_target or timing.flush_error
    echo(f"{job.name}: {record.status if record else 'failed'} in {timing.seconds:.1f}s ({counts}); metrics: {where}")
