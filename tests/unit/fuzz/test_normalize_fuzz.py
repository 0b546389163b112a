"""Property-based fuzzing of the silver parse + normalise step (real Spark, ANSI mode on as on Spark 4.0):
payloads with missing fields, wrong types, huge numbers, odd timestamps and junk never crash a transform; a row
either fails to parse (``p`` null: a DLQ row ``unparseable``) or comes out of every normaliser of its entity."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.silver.normalize import NORMALIZERS
from dip.silver.parse import Registry

from ..silver.conftest import BRONZE_DDL, FETCHED_AT

AUDIENCE_DATA = [{"name": "follower_demographics", "total_value": {"breakdowns": [{"dimension_keys": ["age"],
                  "results": [{"dimension_values": ["18-24"], "value": 5}]}]}}]  # fmt: skip
INSIGHTS_DATA = [{"name": "views", "values": [{"value": 10}]}, {"name": "reach", "values": [{"value": 4}]}]
GOODS: dict[tuple[str, str], dict[str, Any]] = {
    ("instagram", "media"): {"id": "18000000000001001", "caption": "#عباية new", "media_type": "IMAGE",
                             "timestamp": "2026-11-20T10:00:00+0000", "like_count": 5, "comments_count": 1},
    ("instagram", "media_insights"): {"data": INSIGHTS_DATA},
    ("instagram", "account"): {"id": "178", "username": "lina", "followers_count": 10, "media_count": 3},
    ("instagram", "audience"): {"data": AUDIENCE_DATA},
    ("tiktok", "video"): {"id": "73000000000000001", "create_time": 1795600000, "title": "t", "view_count": 9,
                          "like_count": 2, "comment_count": 1, "share_count": 0},
    ("tiktok", "user"): {"open_id": "_000X", "display_name": "Noor", "follower_count": 3, "video_count": 2},
    ("dip", "prediction"): {"request_id": "r1", "entity_id": "p1", "view": "v", "feature_set_version": 1,
                            "model_name": "m", "model_version": "1", "variant": "a", "score": 0.5,
                            "scored_at": "2026-11-26T14:00:00Z"},
}  # fmt: skip
ODD = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from(["", "NaN", "2026-13-45T99:99:99+0000", "1e400", "-1", "٣", "9" * 40, "null"]),
    st.text(max_size=10),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=4), st.integers(), max_size=2),
)


def mutated(good: dict[str, Any]) -> st.SearchStrategy[str]:
    """``good`` with fields dropped or replaced by odd values, or no object at all."""
    fields = st.fixed_dictionaries({}, optional={k: st.just(v) | ODD for k, v in good.items()})
    return st.one_of(fields.map(json.dumps), ODD.map(json.dumps), st.just("{not json"))


PAYLOADS = st.fixed_dictionaries(
    {pair: st.lists(mutated(good), min_size=3, max_size=6) for pair, good in GOODS.items()}
)


@pytest.fixture()
def ansi(spark: SparkSession) -> Iterator[None]:
    before = spark.conf.get("spark.sql.ansi.enabled")
    spark.conf.set("spark.sql.ansi.enabled", "true")
    yield
    spark.conf.set("spark.sql.ansi.enabled", before)


@settings(max_examples=3, deadline=None, suppress_health_check=list(HealthCheck))
@given(PAYLOADS)
def test_odd_payloads_never_crash_a_normaliser(
    spark: SparkSession, registry: Registry, ansi: None, payloads: dict[tuple[str, str], list[str]]
) -> None:
    from dip.silver.parse import parse_entity

    rows = [
        (f"rk{i}", source, entity, 1, "acc-1", f"e{i}", FETCHED_AT, "run-1", text)
        for (source, entity), texts in payloads.items()
        for i, text in enumerate(texts)
    ]
    bronze = spark.createDataFrame(rows, BRONZE_DDL).cache()
    try:
        for (source, entity), transforms in NORMALIZERS.items():
            parsed = parse_entity(bronze, source, entity, registry)
            keys = {r["_record_key"] for r in parsed.where(F.col("p").isNotNull()).select("_record_key").collect()}
            for table, transform in transforms:
                out = transform(parsed.where(F.col("p").isNotNull())).collect()  # every column evaluated
                got = {r["_record_key"] for r in out}
                if table == "audience":
                    assert got <= keys, (source, entity, table)
                else:
                    assert got == keys and len(out) == len(keys), (source, entity, table)
    finally:
        bronze.unpersist()
