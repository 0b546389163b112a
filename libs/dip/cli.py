"""The ``dip`` command line: thin wrappers that load config and call into the library."""

from __future__ import annotations

import sys
from importlib.metadata import entry_points
from typing import Annotated

import typer
import yaml

from dip.commands.common import EnvOption, LogicalDateOption, RunIdOption, config_or_exit, console, err_console
from dip.config.loader import masked_dict

app = typer.Typer(help="DIP: social-media data ingestion pipeline.", no_args_is_help=True, add_completion=False)
config_app = typer.Typer(help="Inspect the resolved configuration.", no_args_is_help=True)
app.add_typer(config_app, name="config")
schemas_app = typer.Typer(help="The JSON Schema registry of API payloads (conf/schemas).", no_args_is_help=True)
app.add_typer(schemas_app, name="schemas")


@config_app.command("show")
def config_show(env: EnvOption = None) -> None:
    """Print the resolved configuration with secrets masked."""
    config = config_or_exit(env)
    console.print(yaml.safe_dump(masked_dict(config), sort_keys=False, allow_unicode=True), end="", markup=False)


@app.command("submit", context_settings={"allow_extra_args": True, "ignore_unknown_options": True})
def submit_cmd(
    ctx: typer.Context,
    script: Annotated[str, typer.Argument(help="Job script, e.g. jobs/doctor.py")],
    env: EnvOption = None,
) -> None:
    """Run a job with spark-submit, adding the jars/packages and Spark settings from config."""
    from dip.spark.submit import run_submit

    config = config_or_exit(env)
    job_args = list(ctx.args)
    if "--env" not in job_args:
        job_args += ["--env", config.env]
    raise typer.Exit(run_submit(config, script, job_args))


@app.command("doctor")
def doctor_cmd(env: EnvOption = None) -> None:
    """Check Spark, Delta, Hudi, Kafka and Redis for real; one line per check, non-zero exit on failure."""
    from dip.doctor import FAILED, OK, SKIPPED, CheckResult, run_checks
    from dip.spark import build_session

    config = config_or_exit(env)
    colours = {OK: "green", FAILED: "red", SKIPPED: "yellow"}

    def show(result: CheckResult) -> None:
        colour = colours[result.status]
        console.print(
            f"[{colour}]{result.status.upper():7}[/{colour}] {result.name:6} {result.seconds:6.1f}s  {result.detail}"
        )

    results = run_checks(config, lambda: build_session(config, app_name="dip-doctor"), on_result=show)
    failed = [r.name for r in results if r.status == FAILED]
    skipped = [r.name for r in results if r.status == SKIPPED]
    summary = f"{len(results) - len(failed) - len(skipped)} ok, {len(failed)} failed, {len(skipped)} skipped"
    console.print(f"doctor: {summary}" + (f" (failed: {', '.join(failed)})" if failed else ""))
    if failed:
        raise typer.Exit(1)


@app.command("serve")
def serve_cmd(
    env: EnvOption = None,
    host: str | None = typer.Option(None, help="Bind address; default serving.host."),
    port: int | None = typer.Option(None, help="Port; default serving.port."),
    openapi: str | None = typer.Option(None, "--openapi", help="Write the OpenAPI spec to this file and exit."),
) -> None:
    """Serve online features and scores over HTTP (FastAPI under uvicorn)."""
    from pathlib import Path

    from dip.serving.server import serve, write_openapi

    config = config_or_exit(env)
    if openapi:
        write_openapi(config, Path(openapi))
        console.print(f"wrote {openapi}")
        return
    serve(config, host=host, port=port)


@app.command("ingest")
def ingest_cmd(
    source: str = typer.Option("all", help="A registered source (instagram, tiktok), a comma list, or all."),
    env: EnvOption = None,
    run_id: RunIdOption = None,
    logical_date: LogicalDateOption = None,
) -> None:
    """Fetch the configured accounts into Kafka dip.raw.<source> and the raw zone; print a summary."""
    from rich.markup import escape

    from dip.connectors.ingest import INGEST, IngestRun, ingest_counts
    from dip.connectors.summary_tables import ingest_table
    from dip.job_runner import run_job

    config = config_or_exit(env)
    run = IngestRun(config)
    if config.connectors.metrics_port:
        run.metrics.serve(config.connectors.metrics_port)
    # connector + dip_job_* metrics in one registry, exported at the end; the lineage row without a JVM
    with run_job(
        INGEST,
        config,
        registry=run.metrics.registry,
        parent_run=run_id,
        logical_date=logical_date,
        echo=console.print,
    ) as job:
        try:
            summaries = run.run(source)
        except ValueError as exc:
            err_console.print(f"[red]ingest:[/red] {exc}")
            raise typer.Exit(2) from None
        job.params.update({"source": source, "ingest_run_id": run.run_id})
        job.counts.update(ingest_counts(summaries))
        console.print(ingest_table(run.run_id, summaries))
        for s in summaries:
            for reason, items in sorted(s.skipped.items()):
                console.print(f"[yellow]skipped:[/yellow] {s.source} {items} × {escape(reason)}")
        for message in (m for s in summaries for m in s.warnings):
            console.print("[yellow]warning:[/yellow]", escape(message))
        for message in (m for s in summaries for m in s.errors):
            err_console.print("[red]error:[/red]", escape(message))
        if any(s.errors for s in summaries):
            raise typer.Exit(1)


@app.command("replay")
def replay_cmd(
    source: str = typer.Option(..., help="Source whose raw zone to republish."),
    date: str = typer.Option(..., help="Day partition, yyyy-mm-dd (UTC)."),
    archive: bool = typer.Option(False, "--archive", help="Read the day from <lake>/archive/raw (dip maintain)."),
    env: EnvOption = None,
) -> None:
    """Republish one day of the raw zone into Kafka (no API calls; messages identical to the originals)."""
    from dip.connectors.replay import run_replay
    from dip.connectors.summary_tables import replay_table

    console.print(replay_table(run_replay(config_or_exit(env), source, date, archive=archive)))


@schemas_app.command("check")
def schemas_check_cmd(env: EnvOption = None) -> None:
    """Fail if any schema version is not backward compatible with the previous one."""
    from rich.markup import escape

    from dip.schemas import SchemaRegistry, check_registry, schemas_dir

    registry = SchemaRegistry(schemas_dir(config_or_exit(env)))
    failures = check_registry(registry)
    for pair, problems in failures.items():
        err_console.print("[red]INCOMPATIBLE[/red]", escape(f"{pair}: " + "; ".join(problems)))
    console.print(f"schemas: {len(registry.subjects())} schema files checked, {len(failures)} incompatible")
    if failures:
        raise typer.Exit(1)


COMMANDS_GROUP = "dip.commands"  # entry points ``name = module:register``; dip-local adds the dev commands


def _register_stage_commands() -> None:
    from dip.commands import deploy, feast, features, gold, lifecycle, lineage, ml, quality, status, streaming

    streaming.register(app)
    features.register(app)
    gold.register(app)
    feast.register(app)
    ml.register(app)
    status.register(app)
    lineage.register(app)
    deploy.register(app)
    quality.register(app)
    lifecycle.register(app)


def _register_plugin_commands() -> None:
    """Commands of installed add-ons (``dip-local``: demo, stack, jars, simulate-api); absent when not installed."""
    for entry_point in sorted(entry_points(group=COMMANDS_GROUP), key=lambda ep: ep.name):
        try:
            register = entry_point.load()
        except ModuleNotFoundError as exc:  # metadata without its package on the path (a venv sharing site-packages)
            if exc.name != entry_point.module.split(".")[0]:
                raise
            continue
        register(app)


_register_stage_commands()
_register_plugin_commands()


def main() -> None:
    """Console-script entry point."""
    sys.exit(app())


if __name__ == "__main__":
    main()
