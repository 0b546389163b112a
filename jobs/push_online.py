"""push_online job: feature table changes since the last pushed commit -> Redis hashes (docs/online_store.md).

Inputs: the feature tables (Delta Change Data Feed or Hudi incremental query), features/_push_state.
Outputs: Redis dip:<view>:<entity_id> hashes written from the executors; a new _push_state row per view.
Run: spark-submit jobs/push_online.py --env local [--view post_features_daily]
"""

from __future__ import annotations

import sys

from dip.config import load_config
from dip.features.push import PushError, push_online
from dip.features.summary_lines import push_lines
from dip.job_main import job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import push_online_job
from dip.observability.online import OnlinePushMetrics


def main(argv: list[str] | None = None) -> int:
    parser = job_parser(__doc__)
    parser.add_argument("--view", action="append", help="only this view (repeatable); default all")
    args = parser.parse_args(argv)
    config = load_config(args.env)
    job = push_online_job(args.view)
    try:
        with run_job(job, config, session_factory(config, job), args=args) as run:
            pushes = push_online(run.spark, config, args.view, OnlinePushMetrics(run.registry, job.counts))
            run.counts.update({p.view: p.written for p in pushes})
    except PushError as exc:
        print(f"push_online failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(push_lines(pushes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
