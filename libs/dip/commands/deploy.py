"""`dip deploy dist` (the cluster artefacts) and `dip deploy render --target emr|databricks|airflow`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from dip.commands.common import console, err_console
from dip.config import Config

deploy_app = typer.Typer(
    help="Cluster artefacts and deployment specs (EMR, Databricks, Airflow).", no_args_is_help=True
)


def _root() -> Path:
    from dip.config import ConfigError, project_root

    try:
        return project_root()
    except ConfigError as exc:
        err_console.print(f"[red]deploy:[/red] {exc}")
        raise typer.Exit(2) from None


@deploy_app.command("dist")
def dist_cmd(out: str = typer.Option("dist", help="Output folder (replaced).")) -> None:
    """Build the dip wheel plus jobs/, conf/, expectations/ and dip_home.tar.gz: what a cluster needs."""
    from dip.deploy import build_dist

    root = _root()
    target = (root / out) if not Path(out).is_absolute() else Path(out)
    manifest = build_dist(root, target)
    wheels = [f for f in manifest["files"] if f.endswith(".whl")]
    console.print(
        f"dist: {len(manifest['files'])} files in {target} (wheel {', '.join(wheels)}; jobs {len(manifest['jobs'])})"
    )


@deploy_app.command("render", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def render_cmd(
    ctx: typer.Context,
    target: Annotated[str, typer.Option("--target", help="emr | databricks | airflow | s3-lifecycle")],
    job: Annotated[str | None, typer.Option("--job", help="Job name (jobs/<name>.py); not for airflow.")] = None,
    env: Annotated[str | None, typer.Option("--env", help="Config environment; default: the target's own.")] = None,
    out: Annotated[
        str | None, typer.Option("--out", help="Output file; default dist/deploy/<target>/<job>.json.")
    ] = None,
) -> None:
    """Write a job's EMR step / Databricks job JSON, Airflow's spec and environment files, or the lake bucket's
    lifecycle rules and default encryption (s3-lifecycle: the S3 API request bodies; default env emr).

    Arguments after the options go to the job, e.g. `-- --date 2026-11-25`; secrets are never inlined.
    """
    from dip import __version__
    from dip.config import ConfigError
    from dip.deploy import TARGETS, check_job, render, render_config, write_airflow_files

    if target not in TARGETS:
        err_console.print(f"[red]deploy render:[/red] unknown target {target!r} (known: {', '.join(TARGETS)})")
        raise typer.Exit(2)
    root = _root()
    default_env = {"airflow": None, "s3-lifecycle": "emr"}.get(target, target)
    try:
        config = render_config(env or default_env)
    except ConfigError as exc:
        err_console.print(f"[red]config error:[/red] {exc}")
        raise typer.Exit(2) from None
    if target == "s3-lifecycle":
        _write_s3_lifecycle(config, Path(out) if out else root / "dist" / "deploy" / target / "bucket.json")
        return
    if target == "airflow":
        for path in write_airflow_files(config, root):
            console.print(f"wrote {path}")
        return
    try:
        check_job(root, job or "")
    except ValueError as exc:
        err_console.print(f"[red]deploy render:[/red] {exc}")
        raise typer.Exit(2) from None
    spec = render(config, target, job, list(ctx.args) or None, __version__)
    path = Path(out) if out else root / "dist" / "deploy" / target / f"{job}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(spec, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {path}")


def _write_s3_lifecycle(config: Config, path: Path) -> None:
    """``PutBucketLifecycleConfiguration`` and ``PutBucketEncryption`` bodies (``aws s3api ... --cli-input-json``)."""
    from dip.lifecycle.retention import s3_lifecycle_requests

    try:
        requests = s3_lifecycle_requests(config)
    except ValueError as exc:
        err_console.print(f"[red]deploy render:[/red] {exc}")
        raise typer.Exit(2) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(requests, indent=2) + "\n", encoding="utf-8")
    console.print(f"wrote {path}")


def register(app: typer.Typer) -> None:
    """Attach these commands to the main ``dip`` app."""
    app.add_typer(deploy_app, name="deploy")
