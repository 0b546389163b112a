"""`dip feast export`: a Feast feature repo over DIP's features (docs/online_store.md, Feast format)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dip.commands.common import EnvOption, config_or_exit, console

feast_app = typer.Typer(help="Feast interoperability: Feast's SDK reads DIP's features.", no_args_is_help=True)


@feast_app.command("export")
def feast_export_cmd(
    out: Annotated[Path, typer.Option("--out", help="Folder of the Feast repo (created).")] = Path("feature_repo"),
    env: EnvOption = None,
) -> None:
    """Write feature_store.yaml and definitions.py for Feast from the config; then `feast apply` there."""
    from dip.online.feast_repo import write_feast_repo

    config = config_or_exit(env)
    for path in write_feast_repo(config, out):
        console.print(f"wrote {path}", markup=False, highlight=False)
    if config.online.format != "feast":
        console.print(
            "note: online.format is dip; Feast reads what push-online writes once it is feast "
            "(DIP__ONLINE__FORMAT=feast), then push again",
            markup=False,
        )
    console.print(f"next, in Feast's environment: cd {out} && feast apply", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.add_typer(feast_app, name="feast")
