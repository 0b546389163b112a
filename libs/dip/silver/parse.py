"""Parse bronze payload text with the registered schema of its (source, entity); unknown versions are errors."""

from __future__ import annotations

from collections.abc import Mapping

from pyspark.sql import DataFrame
from pyspark.sql import functions as F
from pyspark.sql.types import StringType, StructField, StructType

Registry = Mapping[tuple[str, str], Mapping[int, StructType]]
_CORRUPT = "_dip_corrupt_payload"


def record_key(df: DataFrame) -> DataFrame:
    """``_record_key``: the identity of a bronze row (its Kafka coordinates)."""
    return df.withColumn(
        "_record_key",
        F.sha2(F.concat_ws("|", "topic", F.col("partition").cast("string"), F.col("offset").cast("string")), 256),
    )


def content_key(df: DataFrame) -> DataFrame:
    """``_content_key``: identity of what was sent (same key + same payload = duplicate, whatever the offset)."""
    return df.withColumn(
        "_content_key",
        F.sha2(
            F.concat_ws("|", "source", "entity", "entity_id", F.col("schema_version").cast("string"), "payload"), 256
        ),
    )


def known_version(registry: Registry) -> F.Column:
    """True when the row's (source, entity, schema_version) is registered."""
    known = [
        (F.col("source") == source) & (F.col("entity") == entity) & F.col("schema_version").isin(list(versions))
        for (source, entity), versions in registry.items()
    ]
    return F.coalesce(F.greatest(*[k.cast("int") for k in known]) == 1, F.lit(False)) if known else F.lit(False)


def parse_entity(df: DataFrame, source: str, entity: str, registry: Registry) -> DataFrame:
    """Rows of one (source, entity) with ``p`` = payload parsed by the newest registered version.

    Newer versions only add optional fields (checked by ``dip schemas check``), so the newest schema reads
    every older payload; fields a version lacks come back null. ``p`` is null when the payload is not an
    object of that schema (not JSON, an array, a field of the wrong type): Spark would return a struct of nulls.
    """
    versions = registry[(source, entity)]
    schema = versions[max(versions)]
    subset = df.where((F.col("source") == source) & (F.col("entity") == entity))
    with_corrupt = StructType([*schema.fields, StructField(_CORRUPT, StringType(), True)])
    parsed = F.from_json("payload", with_corrupt, {"columnNameOfCorruptRecord": _CORRUPT})
    return subset.withColumn("p", F.when(parsed[_CORRUPT].isNull(), parsed.dropFields(_CORRUPT)))
