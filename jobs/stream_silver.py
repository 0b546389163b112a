"""stream_silver job: Delta bronze -> silver tables (posts, post_metrics, accounts, account_metrics, audience).

Inputs: bronze events, the schema registry (conf/schemas), expectation suites (expectations/).
Outputs: silver tables, quarantine, DLQ, quality_results, the silver ledger. Checkpoint under the lake.
Run: spark-submit jobs/stream_silver.py --env local [--trigger available-now|processing-time=1 minute]
"""

from __future__ import annotations

import argparse
import sys

from dip import lineage
from dip.config import load_config
from dip.spark import build_session
from dip.streaming.silver_job import QUERY, run_stream_silver
from dip.tables import BRONZE_EVENTS, DLQ, QUALITY_RESULTS, SILVER_LEDGER, SILVER_QUARANTINE, SILVER_TABLES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--trigger", default=None, help="available-now | processing-time=<interval>")
    lineage.add_arguments(parser)
    args = parser.parse_args(argv)
    config = load_config(args.env)
    spark = build_session(config, app_name="dip-stream-silver")
    with lineage.recorded_run(
        spark,
        config,
        "stream_silver",
        args,
        writes=[*SILVER_TABLES.values(), SILVER_QUARANTINE, SILVER_LEDGER, QUALITY_RESULTS, DLQ],
        streams={QUERY: BRONZE_EVENTS},
    ) as run:
        summary = run_stream_silver(
            spark, config, args.trigger, on_batch=lambda b: print(f"batch {b.batch_id}: {b.counts}")
        )
        run.counts = {key: summary.total(key) for key in ("bronze", "silver", "quarantine", "dlq", "duplicate")}
    outcomes = ", ".join(f"{k} {summary.total(k)}" for k in ("bronze", "silver", "quarantine", "dlq", "duplicate"))
    print(f"stream_silver: {outcomes} in {summary.seconds:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
