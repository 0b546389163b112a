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

from dip import lineage
from dip.config import load_config
from dip.ml.train import TrainingRefused, result_lines, run_training
from dip.spark import build_session
from dip.tables import FEATURE_TABLES, ML_FEEDBACK, SILVER_POST_METRICS, SILVER_POSTS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--env", default=None, help="config environment (default $DIP_ENV or local)")
    parser.add_argument("--with-feedback", action="store_true", help="also train on the ml_feedback table")
    parser.add_argument("--allow-baseline", action="store_true", help="a first model is champion even below baselines")
    lineage.add_arguments(parser)
    args = parser.parse_args(argv)
    config = load_config(args.env)
    spark = build_session(config, app_name="dip-train")
    with_feedback = args.with_feedback or config.ml.with_feedback
    reads = [
        SILVER_POSTS,
        SILVER_POST_METRICS,
        FEATURE_TABLES[config.ml.view],
        *([ML_FEEDBACK] if with_feedback else []),
    ]
    try:
        with lineage.recorded_run(spark, config, "train", args, reads=reads) as run:
            result = run_training(spark, config, with_feedback=with_feedback, allow_baseline=args.allow_baseline)
            run.params = {
                "mlflow_run_id": result.run_id, "model_version": result.version, "champion": str(result.champion)
            }  # fmt: skip
            run.counts = {"train_rows": result.n_train, "validation_rows": result.n_valid}
    except TrainingRefused as exc:  # too little data or a first model below its baselines: the reason, no traceback
        print(f"train refused: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result_lines(result, config)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
