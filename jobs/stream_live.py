"""stream_live job: silver post_metrics/account_metrics changes -> the live views in Redis (post_live, account_live).

Inputs: the Change Data Feed of silver post_metrics and account_metrics, silver posts (publish time).
Outputs: Redis hashes dip:<live view>:<id> and dip:_live:<view> (progress). Checkpoints under the lake.
Run: spark-submit jobs/stream_live.py --env local [--trigger available-now|processing-time=2 seconds]
"""

from __future__ import annotations

import sys

from dip.features.live_job import SOURCES, run_live_job
from dip.streaming.job_main import StreamJob, main

JOB = StreamJob(
    "stream_live",
    run_live_job,
    SOURCES["post"].query,
    source=SOURCES["post"].table,
    writes=[],
    counts=("changes", "written", "skipped_stale"),
    more_streams={SOURCES["account"].query: SOURCES["account"].table},
)

if __name__ == "__main__":
    sys.exit(main(JOB, __doc__.splitlines()[0]))
