"""The spark-submit command line built from config."""

from pathlib import Path

from dip.config import Config
from dip.spark.submit import submit_command


def _config(**spark: object) -> Config:
    table_format = "hudi" if spark.get("hudi_enabled", True) else "delta"
    return Config.model_validate(
        {"env": "t", "lake": {"root": "file:///tmp/lake"}, "spark": spark, "features": {"table_format": table_format}}
    )


def test_local_submit_passes_jars_at_launch_and_every_conf() -> None:
    config = _config(master="local[2]", hudi_enabled=False, conf={"spark.sql.shuffle.partitions": "2"})
    cmd = submit_command(config, "jobs/doctor.py", ["--env", "t"], [Path("/j/a.jar"), Path("/j/b.jar")])
    assert cmd[0].endswith("/bin/spark-submit")
    assert cmd[1:] == [
        "--name", "dip-doctor",
        "--master", "local[2]",
        "--jars", "/j/a.jar,/j/b.jar",
        "--conf", "spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog",
        "--conf", "spark.serializer=org.apache.spark.serializer.KryoSerializer",
        "--conf", "spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension",
        "--conf", "spark.sql.shuffle.partitions=2",
        "jobs/doctor.py", "--env", "t",
    ]  # fmt: skip


def test_cluster_submit_leaves_master_to_cluster_and_uses_packages() -> None:
    packages = {"3.5": ["io.delta:delta-spark_2.12:3.3.2"], "4.0": ["io.delta:delta-spark_4.0_2.13:4.4.0"]}
    config = _config(master=None, local_jars=False, hudi_enabled=False, packages=packages)
    cmd = submit_command(config, "jobs/doctor.py", [])
    assert "--master" not in cmd
    assert cmd[cmd.index("--packages") + 1] == "io.delta:delta-spark_2.12:3.3.2"
    config = _config(master=None, local_jars=False, hudi_enabled=False, runtime="4.0", packages=packages)
    cmd = submit_command(config, "jobs/doctor.py", [])
    assert cmd[cmd.index("--packages") + 1] == "io.delta:delta-spark_4.0_2.13:4.4.0"
    assert "--jars" not in cmd
