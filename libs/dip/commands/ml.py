"""`dip train` (training set -> model -> MLflow run, registry, champion alias) and `dip evaluate`."""

from __future__ import annotations

import typer

from dip.commands.common import EnvOption, config_or_exit, console, err_console, session


def train_cmd(
    env: EnvOption = None,
    with_feedback: bool = typer.Option(
        False, "--with-feedback", help="Also train on `dip evaluate`'s ml_feedback table (or ml.with_feedback)."
    ),
    allow_baseline: bool = typer.Option(
        False, "--allow-baseline", help="A first model becomes champion even if it does not beat the baselines."
    ),
) -> None:
    """Train the engagement model, log it to MLflow and promote it when it beats the champion."""
    from dip.job_runner import run_job
    from dip.job_specs import train_job
    from dip.ml.model_registry import tracking_uri
    from dip.ml.train import result_lines, run_training

    config = config_or_exit(env)
    console.print(f"train {config.ml.registered_model} ({config.ml.model}) -> {tracking_uri(config)}", markup=False)
    with_feedback = with_feedback or config.ml.with_feedback
    job = train_job(config, with_feedback)
    try:
        with run_job(job, config, lambda: session(config, "dip-train"), echo=console.print) as run:
            result = run_training(run.spark, config, with_feedback=with_feedback, allow_baseline=allow_baseline)
            run.params.update(
                {"mlflow_run_id": result.run_id, "model_version": result.version, "champion": str(result.champion)}
            )
            run.counts.update({"train_rows": result.n_train, "validation_rows": result.n_valid})
    except ValueError as exc:
        err_console.print(f"[red]train:[/red] {exc}")
        raise typer.Exit(1) from None
    for line in result_lines(result, config):
        console.print(line, markup=False)


def evaluate_cmd(env: EnvOption = None) -> None:
    """Join silver predictions with the engagement observed later and print MAE/RMSE/count per A/B variant."""
    from dip.job_runner import run_job
    from dip.job_specs import EVALUATE
    from dip.ml.evaluate import metric_lines, run_evaluate

    config = config_or_exit(env)
    console.print(f"evaluate predictions (label horizon {config.ml.label_horizon_hours} h)", markup=False)
    try:
        with run_job(EVALUATE, config, lambda: session(config, "dip-evaluate"), echo=console.print) as run:
            rows = run_evaluate(run.spark, config)
            run.counts.update({"variants": len(rows), "predictions": sum(r["count"] for r in rows)})
    except ValueError as exc:
        err_console.print(f"[red]evaluate:[/red] {exc}")
        raise typer.Exit(1) from None
    for line in metric_lines(rows):
        console.print(line, markup=False)


def register(app: typer.Typer) -> None:
    """Add the ML commands to the root CLI."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
