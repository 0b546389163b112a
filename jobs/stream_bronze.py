"""stream_bronze job: Kafka ``dip.raw.*`` -> Delta bronze (``<lake>/bronze/events``) + DLQ, exactly once.

Inputs: the raw topics. Outputs: bronze events, the DLQ table and topic. Checkpoint under the lake.
Run: spark-submit jobs/stream_bronze.py --env local [--trigger available-now|processing-time=30 seconds]
"""

from __future__ import annotations

import argparse
import sys

from dip import lineage
from dip.config import load_config
from dip.spark import build_session
from dip.streaming.bronze_job import QUERY, run_stream_bronze
from dip.tables import BRONZE_EVENTS, DLQ


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--trigger", default=None, help="available-now | processing-time=<interval>")
    lineage.add_arguments(parser)
    args = parser.parse_args(argv)
    config = load_config(args.env)
    spark = build_session(config, app_name="dip-stream-bronze")
    with lineage.recorded_run(
        spark, config, "stream_bronze", args, writes=[BRONZE_EVENTS, DLQ], streams={QUERY: None}
    ) as run:
        summary = run_stream_bronze(
            spark, config, args.trigger, on_batch=lambda b: print(f"batch {b.batch_id}: {b.counts}")
        )
        run.counts = {key: summary.total(key) for key in ("kafka", "bronze", "dlq")}
    print(
        f"stream_bronze: {summary.total('kafka')} messages -> {summary.total('bronze')} bronze, "
        f"{summary.total('dlq')} DLQ in {summary.seconds:.1f}s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
