"""`dip stack up|down|status`: the embedded local Kafka broker and Redis."""

from __future__ import annotations

import typer
from rich.table import Table

from dip.commands.common import EnvOption, config_or_exit, console, err_console

stack_app = typer.Typer(help="The embedded local Kafka broker and Redis.", no_args_is_help=True)


def _status_table(title: str, statuses: list) -> Table:
    table = Table(title=title)
    for column in ("service", "address", "pid", "healthy", "action", "time"):
        table.add_column(column)
    for s in statuses:
        table.add_row(s.name, s.address, str(s.pid or "-"), "yes" if s.healthy else "no", s.action, f"{s.seconds:.1f}s")
    return table


@stack_app.command("up")
def stack_up_cmd(env: EnvOption = None) -> None:
    """Start the Kafka broker (KRaft) and Redis on loopback and wait until both are healthy."""
    from dip_local.jars import resolve
    from dip_local.stack import stack_up

    config = config_or_exit(env)
    try:
        resolve(config, "kafka-broker")
        statuses = stack_up(config)
    except RuntimeError as exc:
        err_console.print(f"[red]stack up failed:[/red] {exc}")
        raise typer.Exit(1) from None
    console.print(_status_table("dip stack up", statuses))


@stack_app.command("down")
def stack_down_cmd(env: EnvOption = None) -> None:
    """Stop every service `dip stack up` started."""
    from dip_local.stack import stack_down

    console.print(_status_table("dip stack down", stack_down(config_or_exit(env))))


@stack_app.command("status")
def stack_status_cmd(env: EnvOption = None) -> None:
    """Show whether each local service runs and answers; exit 1 if any does not."""
    from dip_local.stack import stack_status

    statuses = stack_status(config_or_exit(env))
    console.print(_status_table("dip stack status", statuses))
    if not all(s.healthy for s in statuses):
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `dip stack` group (entry point of the ``dip.commands`` group)."""
    app.add_typer(stack_app, name="stack")
