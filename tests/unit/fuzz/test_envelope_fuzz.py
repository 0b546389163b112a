"""Property-based fuzzing of the Kafka envelope parser (real Spark): every message, whatever its bytes, becomes
exactly one bronze row with every required field, or exactly one dead letter with a reason. Nothing is dropped."""

from __future__ import annotations

import json
from datetime import datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.streaming.bronze import bronze_dlq_rows, bronze_rows, kafka_frame, parse_kafka
from dip.streaming.envelope_parsing import REQUIRED_FIELDS

GOOD = {
    "source": "instagram",
    "entity": "media",
    "schema_version": 1,
    "account_id": "178",
    "entity_id": "18000000000001001",
    "fetched_at": "2026-11-26T14:00:00.123456Z",
    "request_id": "r1",
    "run_id": "run-1",
    "payload": {"id": "18000000000001001", "caption": "عباية ✨"},
}
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
# an envelope with some fields dropped or replaced by any JSON value (wrong types, nested junk, bad dates)
MUTATED = st.fixed_dictionaries(
    {},
    optional={name: st.just(value) | JSON_VALUES for name, value in GOOD.items()},
).map(lambda d: json.dumps(d, ensure_ascii=False).encode())
TRUNCATED = st.integers(min_value=0, max_value=60).map(lambda n: json.dumps(GOOD).encode()[:n])
MESSAGES = st.one_of(
    st.none(),
    st.binary(max_size=40),
    TRUNCATED,
    MUTATED,
    st.just(json.dumps(GOOD).encode()),
    JSON_VALUES.map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(MESSAGES, min_size=30, max_size=60))
def test_every_message_is_one_bronze_row_or_one_dead_letter(spark: SparkSession, messages: list[bytes | None]) -> None:
    rows = [(None, m, "dip.raw.instagram", 0, i, datetime(2026, 11, 26, 14)) for i, m in enumerate(messages)]
    kafka = spark.createDataFrame(
        rows, "key BINARY, value BINARY, topic STRING, partition INT, offset BIGINT, timestamp TIMESTAMP"
    )
    parsed = parse_kafka(kafka_frame(kafka), "2026-11-26T14:05:00Z").cache()
    try:
        good = bronze_rows(parsed).select("offset", *[F.col(n).isNull().alias(n) for n in REQUIRED_FIELDS]).collect()
        dead = bronze_dlq_rows(parsed).select("offset", "error_type", "error_message", "original").collect()
    finally:
        parsed.unpersist()
    assert sorted([r["offset"] for r in good] + [r["offset"] for r in dead]) == list(range(len(messages)))
    for row in good:
        assert not any(row[n] for n in REQUIRED_FIELDS), row
    for row in dead:
        assert row["error_type"] in {"empty_message", "invalid_json", "invalid_envelope"}, row
        assert row["error_message"] and (row["original"] is None) == (messages[row["offset"]] is None)
        if row["original"] is not None:
            assert bytes(row["original"]) == messages[row["offset"]]  # the exact bytes, for replay
    assert json.dumps(GOOD).encode() not in [messages[r["offset"]] for r in dead]
