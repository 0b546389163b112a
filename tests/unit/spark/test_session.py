"""The Spark settings the session factory derives from config (pure, no JVM)."""

from __future__ import annotations

from pathlib import Path

from dip.config import Config
from dip.spark.session import session_conf


def _config(**spark: object) -> Config:
    return Config.model_validate({"env": "t", "lake": {"root": "file:///tmp/lake"}, "spark": spark})


def test_local_jars_with_delta_only() -> None:
    conf = session_conf(_config(hudi_enabled=False, conf={"spark.x": "1"}), [Path("/j/a.jar"), Path("/j/b.jar")])
    assert conf == {
        "spark.sql.catalog.spark_catalog": "org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "spark.serializer": "org.apache.spark.serializer.KryoSerializer",
        "spark.sql.extensions": "io.delta.sql.DeltaSparkSessionExtension",
        "spark.jars": "/j/a.jar,/j/b.jar",
        "spark.x": "1",
    }


def test_cluster_uses_packages_and_hudi_adds_extension_and_registrar() -> None:
    conf = session_conf(_config(local_jars=False, hudi_enabled=True, packages=["g:a:1", "g:b:2"]))
    assert conf["spark.jars.packages"] == "g:a:1,g:b:2"
    assert "spark.jars" not in conf
    assert conf["spark.sql.extensions"] == (
        "io.delta.sql.DeltaSparkSessionExtension,org.apache.spark.sql.hudi.HoodieSparkSessionExtension"
    )
    assert conf["spark.kryo.registrator"] == "org.apache.spark.HoodieSparkKryoRegistrar"


def test_config_conf_overrides_defaults() -> None:
    conf = session_conf(_config(hudi_enabled=False, local_jars=False, conf={"spark.serializer": "custom"}))
    assert conf["spark.serializer"] == "custom"
