"""gold job: silver -> gold tables of the seller dashboard and the seller alerts (dip.gold).

Inputs: silver posts, post_metrics, account_metrics, predictions. Outputs: gold/account_daily, gold/hashtag_daily,
gold/seller_alerts (each day's partition replaced) and gold/post_summary (as of the last day); dip_seller_alerts.
Run: spark-submit jobs/gold.py --env local --date 2026-11-25 | --from 2026-11-01 --to 2026-11-25
"""

from __future__ import annotations

import sys
from datetime import date

from dip.config import load_config
from dip.gold.batch import gold_run, summary_line
from dip.job_main import job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import GOLD


def main(argv: list[str] | None = None) -> int:
    parser = job_parser(__doc__)
    days = parser.add_mutually_exclusive_group(required=True)
    days.add_argument("--date", type=date.fromisoformat, help="one UTC day, YYYY-MM-DD")
    days.add_argument("--from", dest="start", type=date.fromisoformat, help="first day of a backfill")
    parser.add_argument("--to", dest="end", type=date.fromisoformat, help="last day of a backfill (inclusive)")
    args = parser.parse_args(argv)
    if args.start and not args.end:
        parser.error("--from needs --to")
    config = load_config(args.env)
    start, end = (args.date, args.date) if args.date else (args.start, args.end)
    with run_job(GOLD, config, session_factory(config, GOLD), args=args) as run:
        summary = gold_run(run, config, start, end)
    print(summary_line(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
