"""train job: silver posts/post_metrics + offline features -> engagement model in MLflow.

Inputs: silver posts and post_metrics, the ``ml.view`` feature table and, with ``--with-feedback``
(or ``ml.with_feedback``), ``ml_feedback`` from `dip evaluate`. Outputs: an MLflow run (params,
validation MAE/RMSE, feature_set_version tag, model with signature and input example) and a new
version of ``ml.registered_model``, aliased ``ml.champion_alias`` when it beats the current one.
Run: spark-submit jobs/train.py --env local [--with-feedback]
"""

from __future__ import annotations

import argparse
import sys

from dip.config import load_config
from dip.ml.train import result_lines, run_training
from dip.spark import build_session


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--with-feedback", action="store_true", help="also train on the ml_feedback table")
    args = parser.parse_args(argv)
    config = load_config(args.env)
    result = run_training(build_session(config, app_name="dip-train"), config, with_feedback=args.with_feedback)
    print("\n".join(result_lines(result, config)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
