"""train job: silver posts/post_metrics + offline features -> engagement model in MLflow.

Inputs: silver posts and post_metrics, the ``ml.view`` feature table and, with ``--with-feedback``
(or ``ml.with_feedback``), ``ml_feedback`` from `dip evaluate`. Outputs: an MLflow run (params,
validation MAE/RMSE, feature_set_version tag, model with signature and input example) and a new
version of ``ml.registered_model``, aliased ``ml.champion_alias`` when it beats the current one.
Run: spark-submit jobs/train.py --env local [--with-feedback]
"""

from __future__ import annotations

import sys

from dip.config import load_config
from dip.job_main import job_parser, session_factory
from dip.job_runner import run_job
from dip.job_specs import train_job
from dip.ml.train import TrainingRefused, result_lines, run_training


def main(argv: list[str] | None = None) -> int:
    parser = job_parser(__doc__)
    parser.add_argument("--with-feedback", action="store_true", help="also train on the ml_feedback table")
    parser.add_argument("--allow-baseline", action="store_true", help="a first model is champion even below baselines")
    args = parser.parse_args(argv)
    config = load_config(args.env)
    with_feedback = args.with_feedback or config.ml.with_feedback
    job = train_job(config, with_feedback)
    try:
        with run_job(job, config, session_factory(config, job), args=args) as run:
            result = run_training(run.spark, config, with_feedback=with_feedback, allow_baseline=args.allow_baseline)
            run.params.update(
                {"mlflow_run_id": result.run_id, "model_version": result.version, "champion": str(result.champion)}
            )
            run.counts.update({"train_rows": result.n_train, "validation_rows": result.n_valid})
    except TrainingRefused as exc:  # too little data or a first model below its baselines: the reason, no traceback
        print(f"train refused: {exc}", file=sys.stderr)
        return 1
    print("\n".join(result_lines(result, config)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
