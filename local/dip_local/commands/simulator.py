"""`dip simulate-api`: serve the bundled Instagram/TikTok API simulator."""

from __future__ import annotations

from typing import Annotated

import typer

from dip.commands.common import console, err_console


def simulate_api_cmd(
    port: int = typer.Option(8765, help="Port on 127.0.0.1."),
    host: str = typer.Option("127.0.0.1", help="Interface to bind."),
    seed: int = typer.Option(42, help="Seed of the generated sellers, posts and metrics."),
    faults: Annotated[
        list[str] | None,
        typer.Option(
            "--faults",
            help="key=value[,key=value]: rate_limit_every, rate_limit_burst, retry_after_s, "
            "error_500_every, slow_every, slow_s, malformed_pages, token_ttl_s.",
        ),
    ] = None,
) -> None:
    """Serve the Instagram Graph API and TikTok API v2 simulator (admin: POST /_sim/advance, /_sim/faults)."""
    from dip_local.simulator import create_app
    from dip_local.simulator.faults import parse_fault_flags
    from dip_local.simulator.server import serve

    try:
        fault_settings = parse_fault_flags(faults or [])
    except ValueError as exc:
        err_console.print(f"[red]--faults:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(f"simulator on http://{host}:{port} (seed {seed})")
    serve(create_app(seed, fault_settings), host=host, port=port)


def register(app: typer.Typer) -> None:
    """Add `dip simulate-api` (entry point of the ``dip.commands`` group)."""
    app.command("simulate-api")(simulate_api_cmd)
