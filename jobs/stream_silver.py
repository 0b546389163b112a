"""stream_silver job: Delta bronze -> silver tables (posts, post_metrics, accounts, account_metrics, audience).

Inputs: bronze events, the schema registry (conf/schemas), expectation suites (expectations/).
Outputs: silver tables, quarantine, DLQ, quality_results, the silver ledger. Checkpoint under the lake.
Run: spark-submit jobs/stream_silver.py --env local [--trigger available-now|processing-time=1 minute]
"""

from __future__ import annotations

import sys

from dip.job_main import stream_main
from dip.job_specs import STREAM_SILVER
from dip.silver.stream_job import run_stream_silver

if __name__ == "__main__":
    sys.exit(stream_main(STREAM_SILVER, run_stream_silver, __doc__))
