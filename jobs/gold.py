"""gold job: silver -> gold tables of the seller dashboard and the seller alerts (dip.gold).

Inputs: silver posts, post_metrics, account_metrics, predictions. Outputs: gold/account_daily, gold/hashtag_daily,
gold/seller_alerts (each day's partition replaced) and gold/post_summary (as of the last day); dip_seller_alerts.
Run: spark-submit jobs/gold.py --env local --date 2026-11-25 | --from 2026-11-01 --to 2026-11-25
"""

from __future__ import annotations

import sys

from dip.config import load_config
from dip.gold.batch import gold_run, summary_line
from dip.job_main import add_day_range, day_range, job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import GOLD


def main(argv: list[str] | None = None) -> int:
    parser = job_parser(__doc__)
    add_day_range(parser)
    args = parser.parse_args(argv)
    start, end = day_range(parser, args)
    config = load_config(args.env)
    with run_job(GOLD, config, session_factory(config, GOLD), args=args) as run:
        summary = gold_run(run, config, start, end)
    print(summary_line(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
