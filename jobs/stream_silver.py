"""stream_silver job: Delta bronze -> silver tables (posts, post_metrics, accounts, account_metrics, audience).

Inputs: bronze events, the schema registry (conf/schemas), expectation suites (expectations/).
Outputs: silver tables, quarantine, DLQ, quality_results, the silver ledger. Checkpoint under the lake.
Run: spark-submit jobs/stream_silver.py --env local [--trigger available-now|processing-time=1 minute]
"""

from __future__ import annotations

import sys

from dip.silver.stream_job import QUERY, run_stream_silver
from dip.streaming.job_main import StreamJob, main
from dip.tables import BRONZE_EVENTS, DLQ, QUALITY_RESULTS, SILVER_LEDGER, SILVER_QUARANTINE, SILVER_TABLES

JOB = StreamJob(
    "stream_silver",
    run_stream_silver,
    QUERY,
    source=BRONZE_EVENTS,
    writes=[*SILVER_TABLES.values(), SILVER_QUARANTINE, SILVER_LEDGER, QUALITY_RESULTS, DLQ],
    counts=("bronze", "silver", "quarantine", "dlq", "duplicate"),
)

if __name__ == "__main__":
    sys.exit(main(JOB, __doc__.splitlines()[0]))
