"""Jar naming helpers."""

import pytest

from dip_local.jars import artifact_id


@pytest.mark.parametrize(
    ("jar", "expected"),
    [
        ("delta-spark_4.0_2.13-4.4.0.jar", "delta-spark_4.0_2.13"),
        ("zstd-jni-1.5.6-10.jar", "zstd-jni"),
        ("javassist-3.30.2-GA.jar", "javassist"),
        ("spark-sql-kafka-0-10_2.13-4.0.4.jar", "spark-sql-kafka-0-10_2.13"),
        ("scala-library-2.13.16.jar", "scala-library"),
    ],
)
def test_artifact_id(jar: str, expected: str) -> None:
    assert artifact_id(jar) == expected


def test_spark_jars_resolve_per_runtime_into_their_own_folder() -> None:
    from pathlib import Path

    from dip.config import Config
    from dip.spark.jars import profile_dir
    from dip_local.jars import maven_profiles

    def config(**spark: object) -> Config:
        fmt = "hudi" if spark.get("hudi_enabled", True) else "delta"
        return Config.model_validate(
            {"env": "t", "lake": {"root": "file:///l"}, "spark": spark, "features": {"table_format": fmt}}
        )

    default = config()
    assert maven_profiles(default, "spark") == ["spark3.5", "hudi3.5"]
    assert profile_dir(default, "spark") == Path(".dip/jars/spark-3.5")
    spark4 = config(runtime="4.0", hudi_enabled=False)
    assert maven_profiles(spark4, "spark") == ["spark4.0"]
    assert profile_dir(spark4, "spark") == Path(".dip/jars/spark-4.0")
    assert maven_profiles(spark4, "kafka-broker") == ["kafka-broker"]
    assert profile_dir(spark4, "kafka-broker") == Path(".dip/jars/kafka-broker")
