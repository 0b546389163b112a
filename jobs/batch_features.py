"""batch_features job: silver -> feature tables (post_features_daily/hourly, account_features_daily).

Inputs: silver posts, post_metrics, post_captions, account_metrics. Outputs: the feature tables (Delta or Hudi per
features.table_format) and features/_runs (completed days; a backfill resumes after them).
Run: spark-submit jobs/batch_features.py --env local --date 2026-11-25 | --from 2026-11-01 --to 2026-11-25 [--force]
"""

from __future__ import annotations

import sys

from dip.config import load_config
from dip.features.batch import run_features
from dip.features.summary_lines import day_line, run_lines
from dip.job_main import add_day_range, day_range, job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import BATCH_FEATURES
from dip.tables import FEATURE_TABLES


def main(argv: list[str] | None = None) -> int:
    parser = job_parser(__doc__)
    add_day_range(parser)
    parser.add_argument("--force", action="store_true", help="recompute days already completed")
    args = parser.parse_args(argv)
    start, end = day_range(parser, args)
    config = load_config(args.env)
    with run_job(BATCH_FEATURES, config, session_factory(config, BATCH_FEATURES), args=args) as run:
        run.params.update({"from": start.isoformat(), "to": end.isoformat(), "force": str(args.force).lower()})
        summary = run_features(run.spark, config, start, end, force=args.force, on_day=lambda r: print(day_line(r)))
        run.counts.update({name: summary.rows(name) for name in FEATURE_TABLES})
    print("\n".join(run_lines(summary)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
