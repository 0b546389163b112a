"""Locations in the lake, built from the configured root URI (never a local path assumption)."""

from __future__ import annotations

from pyspark.sql import SparkSession

from dip.config import Config


def lake_path(config: Config, *parts: str) -> str:
    """``<lake.root>/<part>/...`` as a URI string."""
    root = config.lake.root.rstrip("/")
    return "/".join([root, *(p.strip("/") for p in parts if p)])


def delete_path(spark: SparkSession, uri: str) -> bool:
    """Recursively delete ``uri`` through Hadoop's FileSystem (works for file://, s3a://, hdfs://...)."""
    jvm = spark.sparkContext._jvm
    path = jvm.org.apache.hadoop.fs.Path(uri)
    fs = path.getFileSystem(spark.sparkContext._jsc.hadoopConfiguration())
    return bool(fs.delete(path, True))
