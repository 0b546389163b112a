"""Rendered cluster specs: entry point, arguments, packages, Spark settings, and no secret values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dip.cli import app
from dip.deploy import airflow_env, databricks_job, emr_step, render_config

ROOT = Path(__file__).resolve().parents[3]
SECRETS = {
    "DIP__KAFKA__SASL_USERNAME": "user-must-not-leak",
    "DIP__KAFKA__SASL_PASSWORD": "password-must-not-leak",
    "DIP__REDIS__PASSWORD": "redis-must-not-leak",
}
KAFKA = "org.apache.spark:spark-sql-kafka-0-10_2.12:3.5.7"
DELTA = "io.delta:delta-spark_2.12:3.3.2"
HUDI = "org.apache.hudi:hudi-spark3.5-bundle_2.12:1.2.0"
KAFKA_40 = "org.apache.spark:spark-sql-kafka-0-10_2.13:4.0.4"
SPARK_40 = {"DIP__SPARK__RUNTIME": "4.0", "DIP__SPARK__HUDI_ENABLED": "false", "DIP__FEATURES__TABLE_FORMAT": "delta"}


def _environ(**extra: str) -> dict[str, str]:
    return {"DIP_HOME": str(ROOT), **SECRETS, **extra}


def _no_secret(spec: dict) -> None:
    text = json.dumps(spec)
    for value in (*SECRETS.values(), "<secret>"):
        assert value not in text


def test_emr_step_is_a_spark_submit_of_the_published_job() -> None:
    config = render_config("emr", _environ())
    step = emr_step(config, "stream_bronze")
    args = step["HadoopJarStep"]["Args"]
    assert step["HadoopJarStep"]["Jar"] == "command-runner.jar"
    assert step["Name"] == "dip-stream_bronze" and step["ActionOnFailure"] == "CONTINUE"
    assert args[:5] == ["spark-submit", "--deploy-mode", "cluster", "--name", "dip-stream_bronze"]
    assert args[args.index("--packages") + 1] == f"{DELTA},{KAFKA},{HUDI}"
    assert args[args.index("--archives") + 1] == "s3://dip-artifacts/dip/0.1.0/dip_home.tar.gz#dip_home"
    app_at = args.index("s3://dip-artifacts/dip/0.1.0/jobs/stream_bronze.py")
    assert args[app_at + 1 :] == ["--trigger", "available-now", "--env", "emr"]
    confs = [args[i + 1] for i, a in enumerate(args) if a == "--conf"]
    assert (
        "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension,org.apache.spark.sql.hudi.HoodieSparkSessionExtension"
        in confs
    )
    assert "spark.kryo.registrator=org.apache.spark.HoodieSparkKryoRegistrar" in confs
    assert "spark.hadoop.fs.s3.serverSideEncryption.kms.keyId=alias/dip-lake" in confs
    assert "spark.yarn.appMasterEnv.DIP_HOME=dip_home" in confs and "spark.yarn.appMasterEnv.DIP_ENV=emr" in confs
    python = "/usr/bin/python3.11"  # the bootstrap action's Python, on the driver and the executors
    assert {f"spark.pyspark.python={python}", f"spark.executorEnv.PYSPARK_PYTHON={python}"} <= set(confs)
    assert not any(c.startswith("spark.jars=") for c in confs)
    _no_secret(step)


def test_emr_step_passes_job_arguments() -> None:
    config = render_config("emr", _environ())
    args = emr_step(config, "batch_features", ["--date", "2026-11-25"])["HadoopJarStep"]["Args"]
    assert args[-5:] == ["s3://dip-artifacts/dip/0.1.0/jobs/batch_features.py", "--date", "2026-11-25", "--env", "emr"]


def test_databricks_job_runs_the_script_with_the_wheel_and_secret_references() -> None:
    config = render_config("databricks", _environ())
    job = databricks_job(config, "stream_silver")
    task = job["tasks"][0]
    base = "/Volumes/main/dip/artifacts/0.1.0"
    assert task["spark_python_task"] == {
        "python_file": f"{base}/jobs/stream_silver.py",
        "parameters": ["--trigger", "available-now", "--env", "databricks"],
    }
    assert task["libraries"] == [
        {"whl": f"{base}/dip-0.1.0-py3-none-any.whl"},
        {"pypi": {"package": "great-expectations<2,>=1.3"}},  # the job's `quality` extra: silver runs its suites
        {"maven": {"coordinates": KAFKA}},
        {"maven": {"coordinates": HUDI}},
    ]
    cluster = task["new_cluster"]
    assert cluster["spark_version"] == "15.4.x-scala2.12"  # the Spark 3.5 LTS of spark.runtime 3.5
    assert cluster["autoscale"] == {"min_workers": 1, "max_workers": 4}
    assert cluster["spark_conf"]["spark.sql.session.timeZone"] == "UTC"
    # Databricks configures Delta and the (Unity Catalog) session catalog itself
    assert "spark.sql.extensions" not in cluster["spark_conf"]
    assert "spark.sql.catalog.spark_catalog" not in cluster["spark_conf"]
    assert cluster["spark_env_vars"] == {
        "DIP_HOME": base,
        "DIP_ENV": "databricks",
        "DIP__KAFKA__SASL_USERNAME": "{{secrets/dip/kafka_sasl_username}}",
        "DIP__KAFKA__SASL_PASSWORD": "{{secrets/dip/kafka_sasl_password}}",
        "DIP__REDIS__PASSWORD": "{{secrets/dip/redis_password}}",
    }
    _no_secret(job)


def test_render_needs_no_secret_in_the_environment() -> None:
    config = render_config("emr", {"DIP_HOME": str(ROOT)})
    _no_secret(emr_step(config, "doctor"))


def test_airflow_connection_comes_from_the_configured_master() -> None:
    local = airflow_env(render_config("local", _environ()), ROOT)
    assert json.loads(local["AIRFLOW_CONN_DIP_SPARK"]) == {"conn_type": "spark", "host": "local[2]"}
    assert local["AIRFLOW__CORE__DAGS_FOLDER"] == str(ROOT / "airflow" / "dags")
    emr = airflow_env(render_config("emr", _environ()), ROOT)
    assert json.loads(emr["AIRFLOW_CONN_DIP_SPARK"]) == {
        "conn_type": "spark",
        "host": "yarn",
        "extra": {"deploy-mode": "cluster"},
    }
    _no_secret(emr)


def test_cli_writes_the_spec_and_rejects_unknown_jobs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in _environ().items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "step.json"
    runner = CliRunner()
    result = runner.invoke(
        app, ["deploy", "render", "--target", "emr", "--job", "doctor", "--out", str(out), "--", "--verbose"]
    )
    assert result.exit_code == 0, result.output
    args = json.loads(out.read_text())["steps"][0]["HadoopJarStep"]["Args"]
    assert args[-3:] == ["--verbose", "--env", "emr"]
    bad = runner.invoke(app, ["deploy", "render", "--target", "emr", "--job", "nope", "--out", str(out)])
    assert bad.exit_code == 2 and "unknown job 'nope'" in bad.output


def test_runtime_picks_the_databricks_version_and_packages() -> None:
    config = render_config("databricks", _environ(**SPARK_40))
    task = databricks_job(config, "batch_features")["tasks"][0]
    assert task["new_cluster"]["spark_version"] == "17.3.x-scala2.13"
    readers = [{"pypi": {"package": p}} for p in ("deltalake<2,>=1.0", "hudi<0.6,>=0.5", "pyarrow<24,>=14")]
    assert task["libraries"][1:] == [*readers, {"maven": {"coordinates": KAFKA_40}}]
    assert "spark.kryo.registrator" not in task["new_cluster"]["spark_conf"]  # no Hudi on 4.0
    mismatched = render_config("databricks", _environ(DIP__DEPLOY__DATABRICKS__SPARK_VERSION="17.3.x-scala2.13"))
    with pytest.raises(ValueError, match=re.escape("spark_version 17.3.x-scala2.13 does not match spark.runtime 3.5")):
        databricks_job(mismatched, "batch_features")


def test_emr_7_runs_the_35_runtime_only() -> None:
    config = render_config("emr", _environ(**SPARK_40))
    with pytest.raises(ValueError, match=re.escape("EMR 7.x runs Spark 3.5, not spark.runtime 4.0")):
        emr_step(config, "doctor")
