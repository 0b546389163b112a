"""`dip lineage <table>` (where a table's latest version came from) and `dip runs` (recorded job runs)."""

from __future__ import annotations

import json

import typer
from rich.tree import Tree

from dip.commands.common import EnvOption, config_or_exit, console, err_console, session, titled_table


def _run_label(run: dict | None) -> str:
    if run is None:
        return "[yellow]no recorded run wrote this version[/yellow] (written outside a recorded job, e.g. the dip CLI)"
    code = run["dip_version"] + (f"@{run['git_sha'][:10]}" if run["git_sha"] else "")
    return (
        f"job [bold]{run['job']}[/bold] run {run['run_id'][:12]} ({run['status']}) "
        f"logical_date={run['logical_date'] or '-'} {run['started_at']:%Y-%m-%d %H:%M:%S}..{run['ended_at']:%H:%M:%S} "
        f"code {code}" + (f" parent {run['parent_run']}" if run["parent_run"] else "")
    )


def _add(tree: Tree, origin) -> None:
    node = tree.add(f"[cyan]{origin.table}[/cyan] v{origin.version}: {_run_label(origin.run)}")
    if origin.run:
        for read in origin.run["reads"] or []:
            if read["kind"] == "kafka":
                node.add(f"read kafka {read['name']} offsets {read['detail']}")
    for parent in origin.upstream:
        _add(node, parent)


def lineage_cmd(
    table: str = typer.Argument(..., help="Table name (silver_posts, posts, bronze_events) or lake path."),
    depth: int = typer.Option(2, help="How many levels of inputs to follow."),
    as_json: bool = typer.Option(False, "--json", help="Print the run rows as JSON."),
    env: EnvOption = None,
) -> None:
    """Where the latest version of a table came from: the run that wrote it and what that run read."""
    from dip.lineage import table_origin

    config = config_or_exit(env)
    try:
        origin = table_origin(session(config, "dip-lineage"), config, table, depth)
    except ValueError as exc:
        err_console.print(f"[red]lineage:[/red] {exc}")
        raise typer.Exit(2) from None
    if as_json:
        print(json.dumps(origin.run, default=str, indent=2))
        return
    if origin.version is None:
        console.print(f"{origin.table}: table does not exist at {origin.path}")
        raise typer.Exit(1)
    tree = Tree(f"lineage of {origin.path}")
    _add(tree, origin)
    console.print(tree)


def runs_cmd(
    job: str | None = typer.Option(None, help="Only this job."),
    limit: int = typer.Option(20, help="Rows to show."),
    env: EnvOption = None,
) -> None:
    """The newest recorded job runs (the lineage table <lake>/_runs)."""
    from dip.lineage import recent_runs

    config = config_or_exit(env)
    table = titled_table("job runs", ("run", "job", "status", "logical date", "started", "seconds", "wrote"))
    for run in recent_runs(session(config, "dip-runs"), config, job, limit):
        wrote = ", ".join(
            f"{w['name']} v{w['version_after']}"
            for w in run["writes"] or []
            if w["version_after"] is not None and w["version_after"] != w["version_before"]
        )
        seconds = (run["ended_at"] - run["started_at"]).total_seconds()
        table.add_row(
            run["run_id"][:12], run["job"], run["status"], run["logical_date"] or "-",
            f"{run['started_at']:%Y-%m-%d %H:%M:%S}", f"{seconds:.1f}", wrote or "-",
        )  # fmt: skip
    console.print(table)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.command("lineage")(lineage_cmd)
    app.command("runs")(runs_cmd)
