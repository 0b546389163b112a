"""stream_bronze job: Kafka ``dip.raw.*`` -> Delta bronze (``<lake>/bronze/events``) + DLQ, exactly once.

Inputs: the raw topics. Outputs: bronze events, the DLQ table and topic. Checkpoint under the lake.
Run: spark-submit jobs/stream_bronze.py --env local [--trigger available-now|processing-time=30 seconds]
"""

from __future__ import annotations

import sys

from dip.job_main import stream_main
from dip.job_specs import STREAM_BRONZE
from dip.streaming.bronze_job import run_stream_bronze

if __name__ == "__main__":
    sys.exit(stream_main(STREAM_BRONZE, run_stream_bronze, __doc__))
