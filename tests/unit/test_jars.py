"""Jar naming helpers."""

import pytest

from dip.jars import artifact_id


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
