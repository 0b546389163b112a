"""The Spark settings the session factory derives from config (pure, no JVM)."""

from __future__ import annotations

import re
from pathlib import Path

from dip.config import Config
from dip.spark.session import session_conf


def _config(**spark: object) -> Config:
    table_format = "hudi" if spark.get("hudi_enabled", True) else "delta"
    return Config.model_validate(
        {"env": "t", "lake": {"root": "file:///tmp/lake"}, "spark": spark, "features": {"table_format": table_format}}
    )


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
    conf = session_conf(
        _config(local_jars=False, hudi_enabled=True, packages={"3.5": ["g:a:1", "g:b:2"], "4.0": ["g:c:1"]})
    )
    assert conf["spark.jars.packages"] == "g:a:1,g:b:2"
    assert "spark.jars" not in conf
    assert conf["spark.sql.extensions"] == (
        "io.delta.sql.DeltaSparkSessionExtension,org.apache.spark.sql.hudi.HoodieSparkSessionExtension"
    )
    assert conf["spark.kryo.registrator"] == "org.apache.spark.HoodieSparkKryoRegistrar"


def test_config_conf_overrides_defaults() -> None:
    conf = session_conf(_config(hudi_enabled=False, local_jars=False, conf={"spark.serializer": "custom"}))
    assert conf["spark.serializer"] == "custom"


def test_hudi_needs_the_35_runtime_and_hudi_tables_need_hudi() -> None:
    import pytest
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match=re.escape("spark.hudi_enabled needs spark.runtime 3.5 (got 4.0)")):
        _config(runtime="4.0")
    with pytest.raises(ValidationError, match=re.escape("features.table_format hudi needs spark.hudi_enabled")):
        Config.model_validate({"env": "t", "lake": {"root": "file:///tmp/lake"}, "spark": {"hudi_enabled": False}})
    assert _config(runtime="4.0", hudi_enabled=False).features.table_format == "delta"


def test_runtime_must_match_the_installed_pyspark(monkeypatch) -> None:
    import pytest

    from dip.spark import session

    monkeypatch.setattr(session, "installed_runtime", lambda: "4.0")
    with pytest.raises(RuntimeError, match=re.escape("spark.runtime is 3.5 but pyspark 4.0 is installed")):
        session.check_runtime(_config())
    session.check_runtime(_config(runtime="4.0", hudi_enabled=False))
