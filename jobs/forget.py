"""forget job: carry out queued deletion requests (POST /v1/admin/forget, a platform's data deletion callback).

Inputs: lifecycle/forget_audit (requests without a completed row). Outputs: the account's rows deleted from every
lake table, its raw objects, Redis keys and ingest state; a completed audit row per request (counts only).
Run: spark-submit jobs/forget.py --env local
"""

from __future__ import annotations

import sys

from dip.config import load_config
from dip.job_main import job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import FORGET
from dip.lifecycle.forget import carry_out
from dip.lifecycle.requests import pending_requests


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    config = load_config(args.env)
    requests = pending_requests(config)
    with run_job(FORGET, config, session_factory(config, FORGET), args=args) as run:
        run.counts.update(carry_out(run.spark, config, requests))
    print(f"forget: {len(requests)} request(s) carried out")
    return 0


if __name__ == "__main__":
    sys.exit(main())
