"""stream_bronze job: Kafka ``dip.raw.*`` -> Delta bronze (``<lake>/bronze/events``) + DLQ, exactly once.

Inputs: the raw topics. Outputs: bronze events, the DLQ table and topic. Checkpoint under the lake.
Run: spark-submit jobs/stream_bronze.py --env local [--trigger available-now|processing-time=30 seconds]
"""

from __future__ import annotations

import sys

from dip.streaming.bronze_job import QUERY, run_stream_bronze
from dip.streaming.job_main import StreamJob, main
from dip.tables import BRONZE_EVENTS, DLQ

JOB = StreamJob(
    "stream_bronze",
    run_stream_bronze,
    QUERY,
    source=None,
    writes=[BRONZE_EVENTS, DLQ],
    counts=("kafka", "bronze", "dlq"),
)

if __name__ == "__main__":
    sys.exit(main(JOB, __doc__.splitlines()[0]))
