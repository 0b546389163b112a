"""Cluster artefacts (`make dist`) and deployment specs (`dip deploy render`) for EMR, Databricks and Airflow.

The artefacts a cluster needs: the ``dip`` wheel (Spark itself is the cluster's; pyspark is only in
the ``local`` extra), the job scripts and a DIP home (``conf/`` + ``expectations/``) that jobs find
through ``$DIP_HOME``. Specs reference secrets (Databricks secret scopes, the cluster's environment)
and never contain their values.
"""

from __future__ import annotations

import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from dip.config import Config, load_config
from dip.spark.session import session_conf
from dip.tables import FEATURE_TABLES, SILVER_TABLES

TARGETS = ("emr", "databricks", "airflow", "s3-lifecycle")
DIST_TREES = ("conf", "expectations")  # the DIP home a job needs besides the wheel
DAGS_TREE = "airflow/dags"  # shipped next to them for the scheduler's DAGs folder; not part of the DIP home
DIP_HOME_ARCHIVE = "dip_home.tar.gz"
# The Databricks Runtime a job cluster gets per spark.runtime (deploy.databricks.spark_version: null)
DATABRICKS_RUNTIMES = {"3.5": "15.4.x-scala2.12", "4.0": "17.3.x-scala2.13"}
SCALA_BINARY = {"3.5": "2.12", "4.0": "2.13"}
EMR_RUNTIMES = frozenset({"3.5"})  # EMR 7.x ships Spark 3.5 (with Delta and Hudi)
EMR_PYTHON = "/usr/bin/python3.11"  # installed by emr_bootstrap.sh (the node's python3 is 3.9; the wheel needs 3.11+)
DATABRICKS_PROVIDED_CONF = frozenset({"spark.sql.extensions", "spark.sql.catalog.spark_catalog"})
# required secrets get a placeholder so a cluster config validates while rendering; values never reach a spec
_SECRET_PLACEHOLDERS = {"DIP__KAFKA__SASL_USERNAME": "<secret>", "DIP__KAFKA__SASL_PASSWORD": "<secret>"}
# arguments a scheduled run of a job gets unless the caller gives its own
DEFAULT_ARGS: dict[str, list[str]] = {
    "stream_bronze": ["--trigger", "available-now"],
    "stream_silver": ["--trigger", "available-now"],
}
# setup.py's extras a job needs on a cluster beyond the core install: silver runs its suites, train logs to MLflow,
# and the jobs touching Hudi feature tables read their commit timeline with hudi-rs (push_online; lineage's versions)
JOB_EXTRAS: dict[str, tuple[str, ...]] = {
    "stream_silver": ("quality",),
    "batch_features": ("readers",),
    "push_online": ("readers",),
    "train": ("ml", "readers"),
}


def extra_requirements(extra: str) -> list[str]:
    """The requirements of one of the installed ``dip`` distribution's extras (``name<upper,>=lower``)."""
    from importlib.metadata import requires

    from packaging.requirements import Requirement

    found = []
    for line in requires("dip") or []:
        requirement = Requirement(line)
        if requirement.marker is not None and requirement.marker.evaluate({"extra": extra}):
            found.append(f"{requirement.name}{requirement.specifier}")
    return found


def list_jobs(root: Path) -> list[str]:
    """Job names: the scripts in ``<root>/jobs``."""
    return sorted(p.stem for p in (root / "jobs").glob("*.py") if not p.name.startswith("_"))


def check_job(root: Path, job: str) -> str:
    """``job`` if ``jobs/<job>.py`` exists, else a ValueError naming the known jobs."""
    if job not in list_jobs(root):
        raise ValueError(f"unknown job {job!r} (known: {', '.join(list_jobs(root))})")
    return job


def render_config(env: str, environ: Mapping[str, str] | None = None) -> Config:
    """The config of ``env`` for rendering: missing required secrets are placeholders, never rendered."""
    environ = dict(os.environ if environ is None else environ)
    for name, placeholder in _SECRET_PLACEHOLDERS.items():
        environ.setdefault(name, placeholder)
    return load_config(env, environ=environ)


def cluster_conf(config: Config) -> dict[str, str]:
    """Spark settings of a cluster run: DIP's session settings without local jars (packages instead)."""
    conf = session_conf(config, None)
    conf.pop("spark.jars", None)
    return conf


def job_args(config: Config, job: str, args: list[str] | None) -> list[str]:
    """The job's command line arguments: ``args`` (or the job's defaults) plus ``--env``."""
    chosen = list(args) if args else list(DEFAULT_ARGS.get(job, []))
    return [*chosen, "--env", config.env] if "--env" not in chosen else chosen


def _artifact(config: Config, *parts: str) -> str:
    return "/".join([config.deploy.artifacts_uri.rstrip("/"), *parts])


def wheel_name(version: str) -> str:
    return f"dip-{version}-py3-none-any.whl"


def emr_step(config: Config, job: str, args: list[str] | None = None, version: str = "0.1.0") -> dict[str, Any]:
    """An EMR step (``aws emr add-steps`` / ``EmrAddStepsOperator``): ``spark-submit`` through command-runner.

    The wheel is installed on every node by the bootstrap action ``emr_bootstrap.sh`` that ``make dist`` writes;
    conf/ and expectations/ travel as ``--archives <dip_home.tar.gz>#dip_home`` and ``DIP_HOME`` points there.
    """
    if config.spark.runtime not in EMR_RUNTIMES:
        raise ValueError(f"EMR 7.x runs Spark 3.5, not spark.runtime {config.spark.runtime}: set spark.runtime: 3.5")
    conf = cluster_conf(config)
    home = "dip_home"
    cmd = ["spark-submit", "--deploy-mode", config.deploy.emr.deploy_mode, "--name", f"dip-{job}"]
    if "spark.jars.packages" in conf:
        cmd += ["--packages", conf.pop("spark.jars.packages")]
    cmd += ["--archives", f"{_artifact(config, DIP_HOME_ARCHIVE)}#{home}"]
    conf |= {
        "spark.pyspark.python": EMR_PYTHON,  # the Python the bootstrap action installed the wheel into
        "spark.yarn.appMasterEnv.PYSPARK_PYTHON": EMR_PYTHON,
        "spark.executorEnv.PYSPARK_PYTHON": EMR_PYTHON,
        "spark.yarn.appMasterEnv.DIP_HOME": home,
        "spark.yarn.appMasterEnv.DIP_ENV": config.env,
        "spark.executorEnv.DIP_HOME": home,
        "spark.executorEnv.DIP_ENV": config.env,
    }
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    cmd += [_artifact(config, "jobs", f"{job}.py"), *job_args(config, job, args)]
    return {
        "Name": f"dip-{job}",
        "ActionOnFailure": config.deploy.emr.action_on_failure,
        "HadoopJarStep": {"Jar": "command-runner.jar", "Args": cmd},
    }


def databricks_spark_version(config: Config) -> str:
    """``deploy.databricks.spark_version``, or the LTS of ``spark.runtime``; its Scala must be the runtime's."""
    runtime = config.spark.runtime
    chosen = config.deploy.databricks.spark_version or DATABRICKS_RUNTIMES[runtime]
    if not chosen.endswith(f"scala{SCALA_BINARY[runtime]}"):
        raise ValueError(
            f"deploy.databricks.spark_version {chosen} does not match spark.runtime {runtime}"
            f" (Scala {SCALA_BINARY[runtime]}, e.g. {DATABRICKS_RUNTIMES[runtime]})"
        )
    return chosen


def databricks_job(config: Config, job: str, args: list[str] | None = None, version: str = "0.1.0") -> dict[str, Any]:
    """A Databricks job (Jobs API 2.2): ``spark_python_task`` on a job cluster with the wheel as a library.

    Secrets are ``{{secrets/<scope>/<key>}}`` references in ``spark_env_vars``, resolved by Databricks.
    """
    db = config.deploy.databricks
    spark_version = databricks_spark_version(config)
    # the runtime configures Delta and its (Unity Catalog) spark_catalog itself; overriding them breaks UC
    conf = {k: v for k, v in cluster_conf(config).items() if k not in DATABRICKS_PROVIDED_CONF}
    packages = conf.pop("spark.jars.packages", "")
    env_vars = {"DIP_HOME": _artifact(config), "DIP_ENV": config.env}
    for path in db.secrets:
        reference = "{{secrets/" + db.secret_scope + "/" + path.replace(".", "_") + "}}"
        env_vars["DIP__" + path.upper().replace(".", "__")] = reference
    libraries: list[dict[str, Any]] = [{"whl": _artifact(config, wheel_name(version))}]
    # a whl library cannot name extras: the packages of the job's extras go as PyPI libraries, with their ranges
    libraries += [{"pypi": {"package": p}} for extra in JOB_EXTRAS.get(job, ()) for p in extra_requirements(extra)]
    libraries += [{"maven": {"coordinates": c}} for c in packages.split(",") if c]
    return {
        "name": f"dip-{job}",
        "max_concurrent_runs": 1,
        "tasks": [
            {
                "task_key": job,
                "spark_python_task": {
                    "python_file": _artifact(config, "jobs", f"{job}.py"),
                    "parameters": job_args(config, job, args),
                },
                "libraries": libraries,
                "new_cluster": {
                    "spark_version": spark_version,
                    "node_type_id": db.node_type_id,
                    "autoscale": {"min_workers": db.min_workers, "max_workers": db.max_workers},
                    "spark_conf": conf,
                    "spark_env_vars": env_vars,
                },
            }
        ],
    }


def airflow_spec(config: Config, root: Path) -> dict[str, Any]:
    """What the DAG helper reads at parse time: how to spark-submit each job and call the ``dip`` CLI."""
    from dip.spark.jars import resolved_jars
    from dip.spark.submit import spark_submit_binary

    jars = resolved_jars(config, "spark") if config.spark.local_jars else None
    conf = session_conf(config, jars)
    python = str(Path(sys.prefix) / "bin" / "python")  # the jobs' venv, however this process was started
    env_vars = {"DIP_HOME": str(root), "DIP_ENV": config.env}
    if config.spark.master:  # local Spark: driver and workers run the jobs' interpreter
        env_vars |= {"PYSPARK_PYTHON": python, "PYSPARK_DRIVER_PYTHON": python, "SPARK_LOCAL_IP": "127.0.0.1"}
    return {
        "env": config.env,
        "dip_home": str(root),
        "dip": str(Path(sys.prefix) / "bin" / "dip"),
        "conn_id": config.deploy.airflow.spark_conn_id,
        "spark_binary": spark_submit_binary(),
        "jars": conf.pop("spark.jars", None),
        "packages": conf.pop("spark.jars.packages", None),
        "conf": conf,
        "env_vars": env_vars,
        "jobs": {job: str(root / "jobs" / f"{job}.py") for job in [*list_jobs(root), "train"]},
        "assets": {
            "silver": {t.name: t.path(config) for t in SILVER_TABLES.values()},
            "features": {t.name: t.path(config) for t in FEATURE_TABLES.values()},
        },
        "feature_set_version": config.features.feature_set_version,
        "metrics_textfile_dir": config.metrics.textfile_dir,
        "deadline_minutes": dict(config.deploy.airflow.deadline_minutes),
        "train_weekday": config.deploy.airflow.train_weekday,
    }


def airflow_env(config: Config, root: Path) -> dict[str, str]:
    """Environment of the Airflow CLI: its home, DIP's DAGs folder and the Spark connection from config."""
    connection: dict[str, Any] = {"conn_type": "spark", "host": config.spark.master or "yarn"}
    if not config.spark.master:
        connection["extra"] = {"deploy-mode": config.deploy.emr.deploy_mode}
    return {
        "AIRFLOW_HOME": str(Path(config.state_dir) / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(root / "airflow" / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "PYTHONPATH": str(root / "airflow" / "dags"),  # the DAG files import their helper dip_common
        f"AIRFLOW_CONN_{config.deploy.airflow.spark_conn_id.upper()}": json.dumps(connection),
        "DIP_HOME": str(root),
        "DIP_ENV": config.env,
    }


def write_airflow_files(config: Config, root: Path) -> list[Path]:
    """``<state_dir>/airflow/dip_spec.json`` and ``airflow.env`` (sourced by ``airflow/bin/airflow``)."""
    home = Path(config.state_dir) / "airflow"
    home.mkdir(parents=True, exist_ok=True)
    spec = home / "dip_spec.json"
    spec.write_text(json.dumps(airflow_spec(config, root), indent=2, sort_keys=True) + "\n", encoding="utf-8")
    env = home / "airflow.env"
    lines = [f"{k}={shlex.quote(v)}" for k, v in airflow_env(config, root).items()]
    env.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return [spec, env]


def render(config: Config, target: str, job: str, args: list[str] | None, version: str) -> dict[str, Any]:
    """The spec of ``job`` for an EMR or Databricks ``target``."""
    if target == "emr":
        return {"steps": [emr_step(config, job, args, version)]}
    if target == "databricks":
        return databricks_job(config, job, args, version)
    raise ValueError(f"unknown target {target!r} (known: emr, databricks)")


def cluster_extras() -> str:
    """``dip[...]``: the extras every job of a cluster may need, as one pip requirement on the wheel."""
    return "dip[" + ",".join(sorted({extra for extras in JOB_EXTRAS.values() for extra in extras})) + "]"


def emr_bootstrap_script(version: str) -> str:
    """EMR bootstrap action (argument: the artefacts URI): install the dip wheel, with the extras its jobs need,
    on the node's Python."""
    wheel = wheel_name(version)
    return (
        "#!/bin/bash\n"
        "# EMR bootstrap action written by `make dist`: installs the dip wheel on every node.\n"
        "# Usage (create-cluster): Path=<artifacts_uri>/emr_bootstrap.sh,Args=[<artifacts_uri>]\n"
        "set -euo pipefail\n"
        'artifacts="${1:?usage: emr_bootstrap.sh <artifacts_uri>}"\n'
        f'aws s3 cp "$artifacts/{wheel}" /tmp/{wheel}\n'
        "# EMR 7's system python3 is 3.9; the wheel needs 3.11+: Amazon Linux 2023's python3.11, which the steps'\n"
        "# PYSPARK_PYTHON points at on the driver and the executors\n"
        "sudo dnf install -y -q python3.11 python3.11-pip\n"
        f"sudo {EMR_PYTHON} -m pip install --quiet /tmp/{wheel} '{cluster_extras()}'\n"
    )


def build_dist(root: Path, out: Path, python: str = sys.executable) -> dict[str, Any]:
    """Build ``out/``: the wheel, ``jobs/``, ``conf/``, ``expectations/``, a DIP-home archive, the Airflow DAGs
    and a manifest."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # setuptools' scratch folder keeps copies of modules since moved or deleted, and would ship them in the wheel
    shutil.rmtree(root / "build", ignore_errors=True)
    subprocess.run(
        [python, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(out), str(root)],
        check=True,
    )
    jobs = out / "jobs"
    jobs.mkdir()
    for job in list_jobs(root):
        shutil.copy2(root / "jobs" / f"{job}.py", jobs / f"{job}.py")
    for tree in (*DIST_TREES, DAGS_TREE):
        shutil.copytree(root / tree, out / tree, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    from dip import __version__

    bootstrap = out / "emr_bootstrap.sh"
    bootstrap.write_text(emr_bootstrap_script(__version__), encoding="utf-8")
    bootstrap.chmod(0o755)
    with tarfile.open(out / DIP_HOME_ARCHIVE, "w:gz") as archive:
        for tree in DIST_TREES:
            archive.add(out / tree, arcname=tree)
    files = sorted(p for p in out.rglob("*") if p.is_file())
    manifest = {
        "files": {str(p.relative_to(out)): hashlib.sha256(p.read_bytes()).hexdigest() for p in files},
        "jobs": list_jobs(root),
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return manifest
