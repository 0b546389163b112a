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
    from dip.ml.registry import tracking_uri
    from dip.ml.train import result_lines, run_training

    config = config_or_exit(env)
    console.print(f"train {config.ml.registered_model} ({config.ml.model}) -> {tracking_uri(config)}", markup=False)
    try:
        result = run_training(
            session(config, "dip-train"), config, with_feedback=with_feedback, allow_baseline=allow_baseline
        )
    except ValueError as exc:
        err_console.print(f"[red]train:[/red] {exc}")
        raise typer.Exit(1) from None
    for line in result_lines(result, config):
        console.print(line, markup=False)


def evaluate_cmd(env: EnvOption = None) -> None:
    """Join silver predictions with the engagement observed later and print MAE/RMSE/count per A/B variant."""
    from dip.ml.evaluate import metric_lines, run_evaluate

    config = config_or_exit(env)
    console.print(f"evaluate predictions (label horizon {config.ml.label_horizon_hours} h)", markup=False)
    try:
        rows = run_evaluate(session(config, "dip-evaluate"), config)
    except ValueError as exc:
        err_console.print(f"[red]evaluate:[/red] {exc}")
        raise typer.Exit(1) from None
    for line in metric_lines(rows):
        console.print(line, markup=False)


def register(app: typer.Typer) -> None:
    """Add the ML commands to the root CLI."""
    app.command("train")(train_cmd)
    app.command("evaluate")(evaluate_cmd)
