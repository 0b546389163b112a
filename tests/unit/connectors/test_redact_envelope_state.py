"""Secrets never leak (URLs, logs, bodies, errors); the exact envelope/DLQ contract; atomic state files."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from dip.config import Config
from dip.connectors.base import Record, StreamState
from dip.connectors.errors import RetryableError
from dip.connectors.http import ApiClient, redact_body
from dip.connectors.kafka_messages import dlq_message, fingerprint, raw_message
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.raw_zone import LocalStore
from dip.connectors.state import AccountState, StateStore
from dip.connectors.throttle import RequestBudget
from dip.connectors.tiktok import classify_tiktok_error
from dip.io.redact import RedactingFilter, redact_text, redact_url
from dip.schemas.envelope import ENVELOPE_FIELDS


def test_redact_url_and_text() -> None:
    assert (
        redact_url("https://g/v24.0/1/media?fields=id&access_token=EAAB123&after=x")
        == "https://g/v24.0/1/media?fields=id&access_token=REDACTED&after=x"
    )
    assert (
        redact_url("/oauth?client_secret=s3cr3t&fb_exchange_token=tok")
        == "/oauth?client_secret=REDACTED&fb_exchange_token=REDACTED"
    )
    assert (
        redact_text("Authorization: Bearer act.abc123 and key topsecret", ["topsecret"])
        == "Authorization: Bearer REDACTED and key REDACTED"
    )


def test_redact_body_changes_only_secret_bytes() -> None:
    body = '{"caption":"عباية ✨","next":"http://x/media?access_token=LL-token-9&after=c"}'.encode()
    assert redact_body(body, ["LL-token-9"]) == body.replace(b"LL-token-9", b"REDACTED")
    assert redact_body(b"\xff\xfe not utf8", ["zzzz"]) == b"\xff\xfe not utf8"


def test_log_filter_redacts_formatted_messages() -> None:
    record = logging.LogRecord(
        "httpx",
        logging.INFO,
        __file__,
        1,
        'HTTP Request: GET %s "%s"',
        ("http://g/x?access_token=EAAB1", "200 OK"),
        None,
    )
    RedactingFilter().filter(record)
    assert record.getMessage() == 'HTTP Request: GET http://g/x?access_token=REDACTED "200 OK"'


def test_connection_errors_do_not_carry_tokens(unit_config: Config) -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"refused {request.url}")

    settings = unit_config.connectors.model_copy(update={"max_retries": 0})
    api = ApiClient(
        "instagram",
        "http://ig.test",
        settings,
        RequestBudget(100),
        ConnectorMetrics(),
        classify_tiktok_error,
        transport=httpx.MockTransport(refuse),
    )
    with pytest.raises(RetryableError) as info:
        api.request(
            "GET",
            "/v24.0/1",
            entity="account",
            endpoint="account",
            account_id="1",
            params={"access_token": "EAAB-secret-token"},
        )
    assert "EAAB-secret-token" not in str(info.value) and info.value.__cause__ is None
    assert str(info.value) == "ConnectError calling GET http://ig.test/v24.0/1"


RECORD = Record(
    "instagram",
    "media",
    1,
    "178",
    "18001",
    {"id": "18001", "caption": "عباية ✨", "like_count": 3},
    "req-1",
    "2026-11-26T14:00:00.123456Z",
)


def test_envelope_has_exactly_the_contract_fields() -> None:
    message = raw_message(RECORD, "run-1", "dip.raw.instagram")
    assert message.topic == "dip.raw.instagram" and message.key == b"instagram:media:18001"
    assert (
        message.value
        == (
            '{"source":"instagram","entity":"media","schema_version":1,"account_id":"178","entity_id":"18001",'
            '"fetched_at":"2026-11-26T14:00:00.123456Z","request_id":"req-1","run_id":"run-1",'
            '"payload":{"id":"18001","caption":"عباية ✨","like_count":3}}'
        ).encode()
    )
    assert list(json.loads(message.value)) == list(ENVELOPE_FIELDS)
    assert message.headers == [("source", b"instagram"), ("entity", b"media"), ("schema_version", b"1")]


def test_dlq_message_fields_and_headers() -> None:
    message = dlq_message(
        "dip.dlq",
        source="tiktok",
        entity="video",
        error_type="malformed_response",
        error_message="invalid JSON",
        original=b'{"data": [',
        key="k",
        run_id="r",
        request_id="q",
    )
    value = json.loads(message.value)
    assert list(value) == ["stage", "error_type", "error_message", "source", "entity", "original", "failed_at"]
    assert (value["stage"], value["original"]) == ("ingest", '{"data": [')
    assert dict(message.headers)["error_type"] == b"malformed_response"


def test_an_oversized_dlq_original_is_cut_on_a_character_boundary_and_says_so() -> None:
    body = ("عباية" * 100_000).encode()  # 1 MB of two-byte characters: over Kafka's default message limit
    message = dlq_message(
        "dip.dlq",
        source="instagram",
        entity="media",
        error_type="malformed_response",
        error_message="invalid JSON",
        original=body,
        key="k",
        run_id="r",
        max_original_bytes=1001,
    )
    value = json.loads(message.value)
    assert value["original"] == "عباية" * 100  # 1000 bytes: the half character at byte 1001 is dropped
    assert value["error_message"] == (
        "invalid JSON [original cut to its first 1001 of 1000000 bytes; the raw zone has it all]"
    )
    assert len(message.value) < 2000


def test_fingerprint_ignores_key_order_but_not_values() -> None:
    assert fingerprint({"a": 1, "b": 2}) == fingerprint({"b": 2, "a": 1})
    assert fingerprint({"a": 1}) != fingerprint({"a": 2})


def test_state_store_round_trip_and_no_temp_files(tmp_path: Path) -> None:
    store = StateStore(LocalStore(tmp_path))
    state = AccountState("tiktok", "_000Open/Id", {"video": StreamState("1795", 1795, None)}, {"k": "f"}, {"v:1": 2})
    store.save(state)
    assert store.load("tiktok", "_000Open/Id") == state
    state.fingerprints["k"] = "g"
    store.save(state)  # replaced in place
    assert store.load("tiktok", "_000Open/Id") == state
    assert [p.name for p in (tmp_path / "tiktok").iterdir()] == ["_000Open_Id.json"]
    assert store.load("tiktok", "other") == AccountState("tiktok", "other")
