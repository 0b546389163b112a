"""Deleting lake locations through Hadoop's FileSystem (file://, s3a://, hdfs://...); paths: dip.tables.lake_path."""

from __future__ import annotations

from pyspark.sql import SparkSession


def delete_path(spark: SparkSession, uri: str) -> bool:
    """Recursively delete ``uri`` through Hadoop's FileSystem (works for file://, s3a://, hdfs://...)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.delete(path, True))
