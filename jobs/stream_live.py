"""stream_live job: silver post_metrics/account_metrics changes -> the live views in Redis (post_live, account_live).

Inputs: the Change Data Feed of silver post_metrics and account_metrics, silver posts (publish time).
Outputs: Redis hashes dip:<live view>:<id> and dip:_live:<view> (progress). Checkpoints under the lake.
Run: spark-submit jobs/stream_live.py --env local [--trigger available-now|processing-time=2 seconds]
"""

from __future__ import annotations

import sys

from dip.features.live_job import run_live_job
from dip.job_main import stream_main
from dip.job_specs import STREAM_LIVE

if __name__ == "__main__":
    sys.exit(stream_main(STREAM_LIVE, run_live_job, __doc__))
