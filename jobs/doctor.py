"""Doctor job: checks Spark, Delta, Hudi, Kafka and Redis from inside spark-submit.

Inputs: the configured lake (scratch folder, removed after), Kafka and Redis. Outputs: one line per check.
Run: spark-submit jobs/doctor.py --env local
"""

from __future__ import annotations

import argparse
import sys

from dip.config import load_config
from dip.doctor import FAILED, run_checks
from dip.spark import build_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    args = parser.parse_args(argv)
    config = load_config(args.env)
    results = run_checks(
        config,
        lambda: build_session(config, app_name="dip-doctor-job"),
        on_result=lambda r: print(f"{r.status.upper():7} {r.name:6} {r.seconds:6.1f}s  {r.detail}", flush=True),
    )
    return 1 if any(r.status == FAILED for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
