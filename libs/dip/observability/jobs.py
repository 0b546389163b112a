"""Run-level metrics and a trace span for any job: wrap its body in :func:`job_run`.

Batch jobs export a fresh registry per run (Pushgateway or textfile), so these are last-run gauges
plus a failure counter, the pattern Prometheus recommends for batch jobs::

    with job_run("batch_features", config) as run:
        summary = run_features(...)
    console.print(f"metrics: {run.metrics_target}")
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from dip.config import Config
from dip.observability.export import flush_metrics
from dip.observability.tracing import configure_tracing, span

log = logging.getLogger(__name__)


class JobMetrics:
    """The ``dip_job_*`` metrics, labelled by job, on a registry the caller owns."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.duration = Gauge("dip_job_duration_seconds", "Wall time of the job's last run", ["job"], registry=r)
        self.last_success = Gauge(
            "dip_job_last_success_timestamp_seconds",
            "When the job last succeeded (streams: last completed micro-batch)",
            ["job"],
            registry=r,
        )
        self.last_run = Gauge(
            "dip_job_last_run_timestamp_seconds", "When the job's last run ended", ["job"], registry=r
        )
        self.last_run_success = Gauge(
            "dip_job_last_run_success", "1 if the job's last run succeeded, 0 if it failed", ["job"], registry=r
        )
        self.failures = Counter("dip_job_failures_total", "Failed job runs", ["job"], registry=r)
        self.counts = Gauge(
            "dip_job_count",
            "What the job's last run counted (rows per stage or table, entities written...), by name",
            ["job", "count"],
            registry=r,
        )

    def record_counts(self, job: str, counts: dict[str, int]) -> None:
        """The last run's counts (the same names as its lineage row's ``counts``)."""
        for name, value in counts.items():
            self.counts.labels(job, name).set(value)


@dataclass
class JobRun:
    """What :func:`job_run` yields; ``metrics_target`` is where the metrics went once the block ends."""

    job: str
    metrics: JobMetrics
    succeeded: bool = False
    seconds: float = 0.0
    metrics_target: str | None = None
    flush_error: str | None = None


def _is_clean_exit(exc: BaseException) -> bool:
    """``SystemExit(0)`` and ``typer.Exit(0)`` (``exit_code == 0``) end a command normally; the rest fail it."""
    if isinstance(exc, SystemExit):
        return exc.code in (0, None)
    return getattr(exc, "exit_code", None) == 0


@contextmanager
def job_run(
    job: str,
    config: Config,
    *,
    metrics: JobMetrics | None = None,
    registry: CollectorRegistry | None = None,
    flush: bool = True,
) -> Iterator[JobRun]:
    """Time the block as one run of ``job``: set the ``dip_job_*`` metrics, trace it, then flush the registry.

    Pass ``registry`` (or ``metrics`` built on it) to export the job's own metrics in the same file or
    Pushgateway group. Exceptions propagate unchanged; a failed flush is logged, never raised.
    """
    configure_tracing(config)
    metrics = metrics or JobMetrics(registry)
    metrics.failures.labels(job)  # exported as 0 on success, so a later failure is an increase
    run = JobRun(job, metrics)
    started = time.monotonic()
    try:
        with span(f"dip.job.{job}", **{"dip.job": job, "dip.env": config.env}):
            try:
                yield run
            except BaseException as exc:
                run.succeeded = _is_clean_exit(exc)
                raise
            run.succeeded = True
    finally:
        run.seconds = time.monotonic() - started
        ended = time.time()
        metrics.duration.labels(job).set(run.seconds)
        metrics.last_run.labels(job).set(ended)
        metrics.last_run_success.labels(job).set(1 if run.succeeded else 0)
        if run.succeeded:
            metrics.last_success.labels(job).set(ended)
        else:
            metrics.failures.labels(job).inc()
        if flush:
            try:
                run.metrics_target = flush_metrics(metrics.registry, config, job)
            except OSError as exc:  # Pushgateway down, read-only folder: the job's outcome stands
                run.flush_error = f"{type(exc).__name__}: {exc}"
                log.warning("could not export metrics of %s: %s", job, run.flush_error)
