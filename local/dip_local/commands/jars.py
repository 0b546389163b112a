"""`dip jars`: resolve the JVM jars with Maven into the ignored jars folder."""

from __future__ import annotations

import time

import typer

from dip.commands.common import EnvOption, config_or_exit, console, err_console


def jars_cmd(
    env: EnvOption = None,
    force: bool = typer.Option(False, help="Resolve again even if up to date."),
    list_profile: str | None = typer.Option(
        None, "--list", help="Print a profile's jars comma-separated (for --jars)."
    ),
) -> None:
    """Resolve the JVM jars from Maven Central into the ignored jars folder (a no-op when up to date)."""
    from dip_local.jars import PROFILES, resolve
    from dip_local.stack.prereqs import MissingPrerequisite, ensure_command

    config = config_or_exit(env)
    if list_profile:
        print(",".join(str(j) for j in resolve(config, list_profile).jars))
        return
    try:
        ensure_command("java", allow_apt=config.stack.apt_install)
        ensure_command("mvn", allow_apt=config.stack.apt_install)
    except MissingPrerequisite as exc:
        err_console.print(f"[red]jars:[/red] {exc}")
        raise typer.Exit(1) from None
    for profile in PROFILES:
        started = time.monotonic()
        try:
            jar_set = resolve(config, profile, force=force)
        except RuntimeError as exc:
            err_console.print(f"[red]jars:[/red] {exc}")
            raise typer.Exit(1) from None
        console.print(
            f"{profile:13} {len(jar_set.jars):3} jars in {jar_set.folder} ({time.monotonic() - started:.1f}s)"
        )


def register(app: typer.Typer) -> None:
    """Add `dip jars` (entry point of the ``dip.commands`` group)."""
    app.command("jars")(jars_cmd)
