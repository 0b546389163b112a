"""Build the ``spark-submit`` command line for a job from config (jars/packages, confs, Python)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dip.config import Config
from dip.spark.jars import resolved_jars
from dip.spark.session import session_conf


def spark_submit_binary() -> str:
    """The ``spark-submit`` of the installed pyspark (or ``$SPARK_HOME``)."""
    if os.environ.get("SPARK_HOME"):
        return str(Path(os.environ["SPARK_HOME"]) / "bin" / "spark-submit")
    import pyspark

    return str(Path(pyspark.__file__).parent / "bin" / "spark-submit")


def submit_command(config: Config, script: str, args: list[str], jars: list[Path] | None = None) -> list[str]:
    """``spark-submit`` argv: jars must be given at launch, before the driver JVM starts."""
    conf = session_conf(config, jars)
    cmd = [spark_submit_binary(), "--name", f"{config.spark.app_name}-{Path(script).stem}"]
    if config.spark.master:
        cmd += ["--master", config.spark.master]
    if "spark.jars" in conf:
        cmd += ["--jars", conf.pop("spark.jars")]
    if "spark.jars.packages" in conf:
        cmd += ["--packages", conf.pop("spark.jars.packages")]
    for key, value in conf.items():
        cmd += ["--conf", f"{key}={value}"]
    return [*cmd, script, *args]


def submit_env(config: Config) -> dict[str, str]:
    """Environment for a local submit: Python workers and driver use this interpreter."""
    env = dict(os.environ)
    if config.spark.master:
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        env.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        env.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    return env


def run_submit(config: Config, script: str, args: list[str]) -> int:
    """Run a job through ``spark-submit``; returns its exit code."""
    import subprocess

    jars = resolved_jars(config, "spark") if config.spark.local_jars else None
    return subprocess.call(submit_command(config, script, args, jars), env=submit_env(config))
