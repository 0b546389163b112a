"""The shared ``main`` of the streaming jobs: arguments, session, config, a lineage-recorded run, a summary line."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from dip import lineage
from dip.config import Config, load_config
from dip.spark import build_session
from dip.streaming.runner import RunSummary
from dip.tables import Table


@dataclass(frozen=True)
class StreamJob:
    """What distinguishes one streaming job: its run function, query, source, outputs and reported counts."""

    name: str
    run: Callable[..., RunSummary]
    query: str
    source: Table | None  # the Delta table the query reads; None for Kafka
    writes: Sequence[Table]
    counts: Sequence[str]
    more_streams: Mapping[str, Table] = field(default_factory=dict)  # further queries of the job and their sources


def main(job: StreamJob, description: str, argv: list[str] | None = None) -> int:
    """Parse ``--env``/``--trigger``/lineage arguments, run ``job`` once and print its totals."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--trigger", default=None, help="available-now | processing-time=<interval>")
    lineage.add_arguments(parser)
    args = parser.parse_args(argv)
    config: Config = load_config(args.env)
    spark = build_session(config, app_name=f"dip-{job.name.replace('_', '-')}")
    with lineage.recorded_run(
        spark, config, job.name, args, writes=job.writes, streams={job.query: job.source, **job.more_streams}
    ) as run:
        summary = job.run(spark, config, args.trigger, on_batch=lambda b: print(f"batch {b.batch_id}: {b.counts}"))
        run.counts = {key: summary.total(key) for key in job.counts}
    totals = ", ".join(f"{key} {summary.total(key)}" for key in job.counts)
    print(f"{job.name}: {totals} in {summary.seconds:.1f}s")
    return 0
