"""The one SparkSession factory: Delta (and Hudi) extensions, catalog, Kryo and jars from config."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from pyspark.sql import SparkSession

from dip.config import Config
from dip.spark.jars import resolved_jars

DELTA_EXTENSION = "io.delta.sql.DeltaSparkSessionExtension"
DELTA_CATALOG = "org.apache.spark.sql.delta.catalog.DeltaCatalog"
HUDI_EXTENSION = "org.apache.spark.sql.hudi.HoodieSparkSessionExtension"
HUDI_KRYO_REGISTRATOR = "org.apache.spark.HoodieSparkKryoRegistrar"
KRYO = "org.apache.spark.serializer.KryoSerializer"


def session_conf(config: Config, jars: list[Path] | None = None) -> dict[str, str]:
    """Spark settings DIP needs, from config: extensions, catalog, serializer, jars or packages."""
    extensions = [DELTA_EXTENSION]
    conf: dict[str, str] = {
        "spark.sql.catalog.spark_catalog": DELTA_CATALOG,
        "spark.serializer": KRYO,
    }
    if config.spark.hudi_enabled:
        extensions.append(HUDI_EXTENSION)
        conf["spark.kryo.registrator"] = HUDI_KRYO_REGISTRATOR
    conf["spark.sql.extensions"] = ",".join(extensions)
    if config.spark.local_jars:
        if jars:
            conf["spark.jars"] = ",".join(str(j) for j in jars)
    elif config.spark.runtime_packages:
        conf["spark.jars.packages"] = ",".join(config.spark.runtime_packages)
    conf.update(config.spark.conf)
    return conf


def installed_runtime() -> str:
    """The Spark line (``major.minor``) of the installed pyspark."""
    import pyspark

    return ".".join(pyspark.__version__.split(".")[:2])


def check_runtime(config: Config) -> None:
    """Fail with the key to change when ``spark.runtime`` is not the line of the pyspark that runs."""
    installed = installed_runtime()
    if installed != config.spark.runtime:
        raise RuntimeError(
            f"spark.runtime is {config.spark.runtime} but pyspark {installed} is installed: set spark.runtime"
            f" (DIP__SPARK__RUNTIME={installed}) or use the matching environment (.venv: 3.5, .venv-spark4: 4.0)"
        )


def build_session(
    config: Config,
    app_name: str | None = None,
    builder: SparkSession.Builder | None = None,
    *,
    name_tables: bool = False,
) -> SparkSession:
    """Configure ``builder`` (default ``SparkSession.builder``) from ``config`` and get or create the session.

    Master and resources are set only when the config names a master (local runs); on a cluster
    they are left to ``spark-submit`` or the platform. ``name_tables`` (notebooks) registers every existing lake
    table as ``dip.<name>`` when ``spark.register_tables`` is on; jobs read by path and skip that start-up cost.
    """
    check_runtime(config)
    builder = builder if builder is not None else SparkSession.builder
    builder = builder.appName(app_name or config.spark.app_name)
    if config.spark.master:
        builder = builder.master(config.spark.master)
        # Local Python workers must run this interpreter, which has DIP's dependencies.
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    jars = resolved_jars(config, "spark") if config.spark.local_jars else None
    for key, value in session_conf(config, jars).items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel(config.spark.log_level)
    if name_tables and config.spark.register_tables:  # interactive sessions only: 14 tables cost ~11 s cold
        from dip.catalog import register_tables

        register_tables(session, config)
    return session
