"""The ingest envelope every connector publishes, and its parsing from Kafka bytes."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F

from dip.schemas.envelope import ENVELOPE_DDL

REQUIRED_FIELDS: tuple[str, ...] = ("source", "entity", "schema_version", "entity_id", "fetched_at", "payload")
FETCHED_AT_FORMAT = "yyyy-MM-dd'T'HH:mm:ss[.SSSSSS][.SSS]X"


def parse_fetched_at(col: Column) -> Column:
    """ISO-8601 UTC text (``2026-11-26T14:00:00.123456Z``) -> TIMESTAMP; null when it does not parse."""
    return F.coalesce(F.try_to_timestamp(col, F.lit(FETCHED_AT_FORMAT)), F.try_to_timestamp(col))


def is_json(text: Column) -> Column:
    """True when ``text`` is one well-formed JSON value (Spark 3.5 has no ``try_parse_json``).

    ``get_json_object(text, '$')`` is null for malformed text and for the JSON literal ``null``,
    which is valid JSON (an envelope with every field missing, not a parse error).
    """
    return F.get_json_object(text, "$").isNotNull() | (F.trim(text) == F.lit("null"))


def with_envelope(df: DataFrame, value_col: str = "value") -> DataFrame:
    """Add ``env`` (parsed envelope), ``fetched_ts`` and ``envelope_error`` (null when the envelope is valid)."""
    text = F.col(value_col).cast("string")
    parsed = df.withColumn("env", F.from_json(text, ENVELOPE_DDL)).withColumn(
        "fetched_ts", parse_fetched_at(F.col("env.fetched_at"))
    )
    missing = F.concat_ws(
        ", ",
        *[F.when(F.col(f"env.{name}").isNull(), F.lit(name)) for name in REQUIRED_FIELDS],
        F.when(F.col("env.fetched_at").isNotNull() & F.col("fetched_ts").isNull(), F.lit("fetched_at (not ISO-8601)")),
    )
    error_type = (
        F.when(F.col(value_col).isNull(), F.lit("empty_message"))
        .when(~is_json(text), F.lit("invalid_json"))
        .when(F.length(missing) > 0, F.lit("invalid_envelope"))
    )
    error_message = (
        F.when(error_type == "empty_message", F.lit("Kafka message has no value"))
        .when(error_type == "invalid_json", F.lit("value is not valid JSON"))
        .when(error_type == "invalid_envelope", F.concat(F.lit("missing or invalid envelope fields: "), missing))
    )
    return parsed.withColumn(
        "envelope_error",
        F.when(error_type.isNotNull(), F.struct(error_type.alias("type"), error_message.alias("message"))),
    )
