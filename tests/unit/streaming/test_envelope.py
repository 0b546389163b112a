"""Parsing the ingest envelope from Kafka bytes: valid rows, and the exact reason a message is rejected."""

from __future__ import annotations

import pytest
from pyspark.sql import DataFrame, SparkSession

from dip.streaming.envelope_parsing import with_envelope

VALID = (
    '{"source": "instagram", "entity": "media", "schema_version": 1, "account_id": "17841400000000001", '
    '"entity_id": "18000000000000001", "fetched_at": "2026-11-26T14:00:00.123456Z", "request_id": "req-1", '
    '"run_id": "run-1", "payload": {"id": "18000000000000001", "like_count": 7}}'
)


def _envelope(spark: SparkSession, value: str | None) -> DataFrame:
    data = None if value is None else value.encode("utf-8")
    return with_envelope(spark.createDataFrame([(data,)], "value BINARY"))


def _with_fetched_at(fetched_at: str) -> str:
    return VALID.replace('"2026-11-26T14:00:00.123456Z"', f'"{fetched_at}"')


def test_valid_envelope_is_parsed_with_no_error(spark: SparkSession) -> None:
    row = _envelope(spark, VALID).first()
    assert row["envelope_error"] is None
    env = row["env"].asDict()
    assert env == {
        "source": "instagram",
        "entity": "media",
        "schema_version": 1,
        "account_id": "17841400000000001",
        "entity_id": "18000000000000001",
        "fetched_at": "2026-11-26T14:00:00.123456Z",
        "request_id": "req-1",
        "run_id": "run-1",
        "payload": '{"id":"18000000000000001","like_count":7}',
    }


REJECTED = [
    pytest.param(None, ("empty_message", "Kafka message has no value"), id="null-value"),
    pytest.param('{"source": "instagram", ', ("invalid_json", "value is not valid JSON"), id="truncated-json"),
    pytest.param("not json at all", ("invalid_json", "value is not valid JSON"), id="plain-text"),
    pytest.param(
        f"[{VALID}]",
        (
            "invalid_envelope",
            "missing or invalid envelope fields: source, entity, schema_version, entity_id, fetched_at, payload",
        ),
        id="json-array",
    ),
    pytest.param(
        '{"source": "instagram", "schema_version": 1, "entity_id": "1", "payload": {}}',
        ("invalid_envelope", "missing or invalid envelope fields: entity, fetched_at"),
        id="missing-fields-in-order",
    ),
    pytest.param(
        VALID.replace('"schema_version": 1', '"schema_version": "one"'),
        ("invalid_envelope", "missing or invalid envelope fields: schema_version"),
        id="schema-version-not-a-number",
    ),
    pytest.param(
        _with_fetched_at("26/11/2026 14:00"),
        ("invalid_envelope", "missing or invalid envelope fields: fetched_at (not ISO-8601)"),
        id="fetched-at-not-iso",
    ),
]


FETCHED_AT_VARIANTS = [
    pytest.param("2026-11-26T14:00:00.123456Z", "2026-11-26 14:00:00.123456", id="micros"),
    pytest.param("2026-11-26T14:00:00.123Z", "2026-11-26 14:00:00.123000", id="millis"),
    pytest.param("2026-11-26T14:00:00Z", "2026-11-26 14:00:00.000000", id="no-fraction"),
]


@pytest.fixture(scope="module")
def parsed(spark: SparkSession) -> dict[str | None, tuple]:
    """value -> (envelope_error type, message, fetched_ts in UTC) for every case, in one Spark job."""
    values = [VALID] + [c.values[0] for c in REJECTED] + [_with_fetched_at(c.values[0]) for c in FETCHED_AT_VARIANTS]
    rows = [(i, None if v is None else v.encode("utf-8")) for i, v in enumerate(values)]
    df = spark.createDataFrame(rows, "i INT, value BINARY")
    out = with_envelope(df).selectExpr(
        "i",
        "envelope_error.type",
        "envelope_error.message",
        "date_format(fetched_ts, 'yyyy-MM-dd HH:mm:ss.SSSSSS') AS ts",
    )
    return {values[r["i"]]: (r["type"], r["message"], r["ts"]) for r in out.collect()}


@pytest.mark.parametrize(("value", "expected"), REJECTED)
def test_rejected_messages_carry_type_and_exact_message(
    parsed: dict, value: str | None, expected: tuple[str, str]
) -> None:
    assert parsed[value][:2] == expected


@pytest.mark.parametrize(("fetched_at", "expected"), FETCHED_AT_VARIANTS)
def test_fetched_at_variants_parse_to_the_exact_utc_timestamp(parsed: dict, fetched_at: str, expected: str) -> None:
    """``fetched_ts`` rendered in the session time zone (UTC) to the microsecond."""
    assert parsed[_with_fetched_at(fetched_at)] == (None, None, expected)
