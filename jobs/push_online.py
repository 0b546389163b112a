"""push_online job: feature table changes since the last pushed commit -> Redis hashes (docs/online_store.md).

Inputs: the feature tables (Delta Change Data Feed or Hudi incremental query), features/_push_state.
Outputs: Redis dip:<view>:<entity_id> hashes written from the executors; a new _push_state row per view.
Run: spark-submit jobs/push_online.py --env local [--view post_features_daily]
"""

from __future__ import annotations

import argparse
import sys

from dip import lineage
from dip.config import load_config
from dip.features.push import PushError, push_online
from dip.features.report import push_lines
from dip.spark import build_session
from dip.tables import FEATURE_PUSH_STATE, FEATURE_TABLES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--view", action="append", help="only this view (repeatable); default all")
    lineage.add_arguments(parser)
    args = parser.parse_args(argv)
    config = load_config(args.env)
    spark = build_session(config, app_name="dip-push-online")
    tables = [t for name, t in FEATURE_TABLES.items() if not args.view or name in args.view]
    try:
        with lineage.recorded_run(spark, config, "push_online", args, reads=tables, writes=[FEATURE_PUSH_STATE]) as run:
            pushes = push_online(spark, config, args.view)
            run.counts = {p.view: p.written for p in pushes}
    except PushError as exc:
        print(f"push_online failed: {exc}", file=sys.stderr)
        return 1
    print("\n".join(push_lines(pushes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
