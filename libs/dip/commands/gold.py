"""`dip gold --date D | --from D1 --to D2`: the seller dashboard's gold tables and seller alerts."""

from __future__ import annotations

import typer

from dip.commands.common import EnvOption, config_or_exit, console, err_console, session
from dip.commands.features import parse_day


def gold_cmd(
    day: str | None = typer.Option(None, "--date", help="One UTC day (YYYY-MM-DD)."),
    start: str | None = typer.Option(None, "--from", help="First day (YYYY-MM-DD)."),
    end: str | None = typer.Option(None, "--to", help="Last day, inclusive."),
    env: EnvOption = None,
) -> None:
    """Gold tables (per account/day, hashtag/day, post) and seller alerts from silver; re-runs replace the days."""
    if bool(day) == bool(start or end) or bool(start) != bool(end):
        err_console.print("[red]gold:[/red] give --date D, or --from D1 --to D2")
        raise typer.Exit(2)
    first = parse_day(day or start, "--date" if day else "--from")  # type: ignore[arg-type]
    last = first if day else parse_day(end, "--to")  # type: ignore[arg-type]
    from dip.gold.batch import gold_run, summary_line
    from dip.job_runner import run_job
    from dip.job_specs import GOLD

    config = config_or_exit(env)
    try:
        with run_job(GOLD, config, lambda: session(config, "dip-gold"), echo=console.print) as run:
            summary = gold_run(run, config, first, last)
    except ValueError as exc:
        err_console.print(f"[red]gold:[/red] {exc}")
        raise typer.Exit(2) from None
    console.print(summary_line(summary), markup=False)


def register(app: typer.Typer) -> None:
    """Attach ``dip gold`` to the main ``dip`` app."""
    app.command("gold")(gold_cmd)
