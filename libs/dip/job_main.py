"""The ``main`` of the spark-submit jobs (``jobs/*.py``): arguments, config, session, one run through the runner."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from datetime import date

from dip.config import Config, load_config
from dip.job_runner import Job, add_job_arguments, run_job
from dip.job_specs import stream_counts
from dip.observability.export import serve_metrics
from dip.observability.streaming import StreamMetrics
from dip.spark import build_session
from dip.streaming.runner import RunSummary


def job_parser(doc: str | None) -> argparse.ArgumentParser:
    """A job's parser with ``--env``, ``--run-id`` and ``--logical-date``; its description is the doc's first line."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0] if doc else None)
    add_job_arguments(parser)
    return parser


def add_day_range(parser: argparse.ArgumentParser) -> None:
    """``--date D`` or ``--from D --to D`` (a backfill), for the jobs that run per UTC day."""
    days = parser.add_mutually_exclusive_group(required=True)
    days.add_argument("--date", type=date.fromisoformat, help="one UTC day, YYYY-MM-DD")
    days.add_argument("--from", dest="start", type=date.fromisoformat, help="first day of a backfill")
    parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day of a backfill (inclusive)")


def day_range(parser: argparse.ArgumentParser, args: argparse.Namespace) -> tuple[date, date]:
    """The (first, last) day of :func:`add_day_range`'s arguments; ``--from`` without ``--to`` is a usage error."""
    if args.start and not args.end:
        parser.error("--from needs --to")
    return (args.date, args.date) if args.date else (args.start, args.end)


def session_factory(config: Config, job: Job) -> Callable:
    """Build the job's session inside its run (``dip-<job>`` as the application name)."""
    return lambda: build_session(config, app_name=f"dip-{job.name.replace('_', '-')}")


def stream_metrics(config: Config, echo: Callable[[str], object] = print) -> StreamMetrics:
    """``dip_stream_*`` and ``dip_job_*`` on one registry: served on ``metrics.port`` while a stream runs (when
    set), flushed to the textfile/Pushgateway when its run ends, whichever entry point started it."""
    metrics = StreamMetrics(max_rejected_share=config.streaming.max_rejected_share)
    port = serve_metrics(metrics.registry, config)
    if port:
        echo(f"serving metrics on http://{config.metrics.host}:{port}/metrics")
    return metrics


def stream_main(job: Job, run: Callable[..., RunSummary], doc: str | None, argv: list[str] | None = None) -> int:
    """Parse ``--trigger`` and the job arguments, run the streaming ``job`` once, print each batch and the totals."""
    parser = job_parser(doc)
    parser.add_argument("--trigger", default=None, help="available-now | processing-time=<interval>")
    args = parser.parse_args(argv)
    config = load_config(args.env)
    metrics = stream_metrics(config)
    with run_job(job, config, session_factory(config, job), args=args, metrics=metrics.job) as current:
        summary = run(
            current.spark,
            config,
            args.trigger,
            on_batch=lambda b: print(f"batch {b.batch_id}: {b.counts}"),
            metrics=metrics,
        )
        current.counts.update(stream_counts([job], [summary]))
    return 0
