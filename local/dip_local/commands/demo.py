"""`dip demo`: the whole pipeline on the embedded default, ending with a summary."""

from __future__ import annotations

import os

import typer

from dip.commands.common import EnvOption, console, err_console
from dip_local.demo.timeline import DEFAULT_HOURS_PER_ROUND, DEFAULT_ROUNDS


def demo_cmd(
    env: EnvOption = None,
    clean: bool = typer.Option(False, "--clean", help="Start over: remove the lake, state, topics and keys."),
    scale: int = typer.Option(1, min=1, help="Multiply the simulator's posts per account (data volume)."),
    rounds: int = typer.Option(
        DEFAULT_ROUNDS, min=1, help="Ingest rounds on a simulated clock (they take effect on a fresh or --clean demo)."
    ),
    hours_per_round: int = typer.Option(
        DEFAULT_HOURS_PER_ROUND, min=1, max=24, help="Simulated hours between two ingest rounds."
    ),
) -> None:
    """The whole pipeline over simulated days (ingest rounds, streams, features, train, serve) and a summary."""
    from dip.config import ConfigError, load_config
    from dip_local.demo.credentials import targets_simulator, with_simulator_credentials
    from dip_local.demo.run import run_demo
    from dip_local.demo.summary import render

    try:
        config = load_config(env)
        if targets_simulator(config):
            config = load_config(env, environ=with_simulator_credentials(os.environ))
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {exc}")
        raise typer.Exit(2) from None
    if not targets_simulator(config):
        err_console.print(
            "[red]dip demo runs against the bundled simulator: connector base URLs must be loopback[/red]"
        )
        raise typer.Exit(2)
    report = run_demo(config, console, clean=clean, scale=scale, rounds=rounds, hours_per_round=hours_per_round)
    render(report, console)
    if report.balanced is False:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add `dip demo` (entry point of the ``dip.commands`` group)."""
    app.command("demo")(demo_cmd)
