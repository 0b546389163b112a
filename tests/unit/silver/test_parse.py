"""Registered versions, content identity of bronze rows, and parsing payloads with the newest schema."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.types import LongType, StringType, StructField, StructType

from dip.silver.parse import Registry, content_key, known_version, parse_entity, record_key

BRONZE = (
    "source STRING, entity STRING, schema_version INT, entity_id STRING, payload STRING, topic STRING, "
    "partition INT, offset BIGINT"
)
V1 = StructType([StructField("id", StringType(), True), StructField("like_count", LongType(), True)])
V2 = StructType([*V1.fields, StructField("alt_text", StringType(), True)])
MEDIA_V1_V2: Registry = {("instagram", "media"): {1: V1, 2: V2}, ("tiktok", "video"): {1: V1}}


def _bronze(spark: SparkSession, rows: list[tuple]) -> DataFrame:
    return spark.createDataFrame(rows, BRONZE)


def test_known_version(spark: SparkSession) -> None:
    rows = [
        ("instagram", "media", 1, "a", "{}", "t", 0, 1),
        ("instagram", "media", 2, "a", "{}", "t", 0, 2),
        ("instagram", "media", 3, "a", "{}", "t", 0, 3),
        ("tiktok", "media", 1, "a", "{}", "t", 0, 4),
        ("instagram", "stories", 1, "a", "{}", "t", 0, 5),
        ("instagram", "media", None, "a", "{}", "t", 0, 6),
    ]
    df = _bronze(spark, rows)
    known = {r["offset"]: r["k"] for r in df.select("offset", known_version(MEDIA_V1_V2).alias("k")).collect()}
    assert known == {1: True, 2: True, 3: False, 4: False, 5: False, 6: False}
    assert df.select(known_version({}).alias("k")).distinct().collect()[0]["k"] is False


def test_content_key_ignores_kafka_coordinates_record_key_does_not(spark: SparkSession) -> None:
    payload = '{"id": "1", "like_count": 5}'
    rows = [
        ("instagram", "media", 1, "1", payload, "dip.raw.instagram", 0, 10),
        ("instagram", "media", 1, "1", payload, "dip.raw.instagram", 2, 99),  # the same message, re-sent
        ("instagram", "media", 1, "1", '{"id": "1", "like_count": 6}', "dip.raw.instagram", 0, 11),
        ("instagram", "media", 1, "2", payload, "dip.raw.instagram", 0, 12),
        ("instagram", "media", 2, "1", payload, "dip.raw.instagram", 0, 13),
    ]
    keyed = _bronze(spark, rows).transform(content_key).transform(record_key)
    got = {r["offset"]: (r["_content_key"], r["_record_key"]) for r in keyed.collect()}
    assert got[10][0] == got[99][0]
    assert got[10][1] != got[99][1]
    assert len({got[o][0] for o in (10, 11, 12, 13)}) == 4
    assert len({v[1] for v in got.values()}) == 5


def test_parse_entity_reads_every_version_with_the_newest_schema(spark: SparkSession) -> None:
    rows = [
        ("instagram", "media", 1, "1", '{"id": "1", "like_count": 5}', "t", 0, 1),
        ("instagram", "media", 2, "2", '{"id": "2", "like_count": 6, "alt_text": "عباية سوداء"}', "t", 0, 2),
        ("tiktok", "video", 1, "3", '{"id": "3", "like_count": 7}', "t", 0, 3),
        ("instagram", "account", 1, "4", '{"id": "4"}', "t", 0, 4),
    ]
    parsed = parse_entity(_bronze(spark, rows), "instagram", "media", MEDIA_V1_V2)
    assert parsed.schema["p"].dataType == V2
    got = [(r["offset"], r["p"].asDict()) for r in parsed.orderBy("offset").collect()]
    assert got == [
        (1, {"id": "1", "like_count": 5, "alt_text": None}),
        (2, {"id": "2", "like_count": 6, "alt_text": "عباية سوداء"}),
    ]


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param('[{"id": "1"}]', id="array"),
        pytest.param('"just text"', id="string"),
        pytest.param('{"id": "1", "like_count": "many"}', id="wrong-field-type"),
        pytest.param('{"id": "1", "like_count": 5', id="truncated"),
        pytest.param(None, id="null"),
    ],
)
def test_parse_entity_gives_null_p_for_a_payload_that_does_not_match(spark: SparkSession, payload: str | None) -> None:
    """``p`` is null exactly when the payload does not fit the schema: the silver step sends those to the DLQ."""
    rows = [("instagram", "media", 1, "1", payload, "t", 0, 1), ("instagram", "media", 1, "2", "{}", "t", 0, 2)]
    parsed = parse_entity(_bronze(spark, rows), "instagram", "media", MEDIA_V1_V2)
    got = [(r["offset"], r["p"]) for r in parsed.orderBy("offset").select("offset", "p").collect()]
    assert got[0] == (1, None)
    assert got[1][1].asDict() == {"id": None, "like_count": None, "alt_text": None}  # missing fields are not errors
    assert parsed.schema["p"].dataType == V2
