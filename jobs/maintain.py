"""maintain job: OPTIMIZE (Z-order), VACUUM and checkpoint every Delta table, clean the Hudi feature tables, apply
each zone's retention and (lake on the local disk) archive the raw zone.

Inputs/outputs: every lake table (lifecycle.* in conf/base.yaml); <lake>/raw -> <lake>/archive/raw.
Run: spark-submit jobs/maintain.py --env local
"""

from __future__ import annotations

import sys

from dip.config import load_config
from dip.job_main import job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import MAINTAIN
from dip.lifecycle.maintain import maintenance_counts, run_maintenance, table_line
from dip.observability.lifecycle import MaintenanceMetrics


def main(argv: list[str] | None = None) -> int:
    args = job_parser(__doc__).parse_args(argv)
    config = load_config(args.env)
    with run_job(MAINTAIN, config, session_factory(config, MAINTAIN), args=args) as run:
        summary = run_maintenance(
            run.spark, config, metrics=MaintenanceMetrics(run.registry), on_table=lambda t: print(table_line(t))
        )
        run.counts.update(maintenance_counts(summary))
    print(f"raw zone: {summary.raw.archived} objects archived, {summary.raw.expired} expired")
    return 0


if __name__ == "__main__":
    sys.exit(main())
