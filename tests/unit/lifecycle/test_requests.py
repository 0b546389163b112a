"""Deletion requests: recorded without the account id, read back as the forgotten list, pending until completed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from pydantic import ValidationError

from dip.config import Config
from dip.config.models import DeltaMaintenanceConfig, RawRetentionConfig
from dip.connectors.publisher import topic_config
from dip.io.forgotten import account_hash, forgotten_hashes
from dip.lifecycle.requests import audit_rows, pending_requests, record_completed, record_request, request_status


@pytest.fixture
def config(test_config: Config, tmp_path: Path) -> Config:
    config = test_config.model_copy(deep=True)
    config.lake.root = (tmp_path / "lake").as_uri()
    return config


def test_account_hash_is_sha256_of_source_and_id() -> None:
    assert account_hash("instagram", "17841400000000001") == hashlib.sha256(b"instagram:17841400000000001").hexdigest()
    assert account_hash("instagram", "1") != account_hash("tiktok", "1")


def test_request_puts_the_account_on_the_forgotten_list_until_completed(config: Config) -> None:
    assert forgotten_hashes(config) == frozenset()
    assert pending_requests(config) == []
    request = record_request(config, "instagram", "acc-9", "ops@example", purge=True)
    assert forgotten_hashes(config) == {account_hash("instagram", "acc-9")}
    assert [r.request_id for r in pending_requests(config)] == [request.request_id]
    assert request_status(config, request.request_id) == "requested"

    record_completed(config, request, {"bronze_events": 3, "redis": 2})
    assert pending_requests(config) == []
    assert request_status(config, request.request_id) == "completed"
    assert request_status(config, "unknown") is None
    assert forgotten_hashes(config) == {account_hash("instagram", "acc-9")}  # forgotten for good
    rows = audit_rows(config)
    assert [(r["status"], r["requested_by"], r["purge"]) for r in rows] == [
        ("requested", "ops@example", True),
        ("completed", "ops@example", True),
    ]
    assert json.loads(rows[1]["counts_json"]) == {"bronze_events": 3, "redis": 2}
    assert "acc-9" not in json.dumps(rows, default=str)  # the audit holds no account id


def test_request_needs_source_and_account(config: Config) -> None:
    with pytest.raises(ValueError, match="needs a source and an account id"):
        record_request(config, "instagram", "", "me")


def test_vacuum_below_deltas_safety_default_only_when_said() -> None:
    with pytest.raises(ValidationError, match="allow_short_retention"):
        DeltaMaintenanceConfig(vacuum_retention_hours=1)
    assert DeltaMaintenanceConfig(vacuum_retention_hours=1, allow_short_retention=True).vacuum_retention_hours == 1


def test_raw_expiry_must_follow_the_archive() -> None:
    with pytest.raises(ValidationError, match="expire_after_days must be after"):
        RawRetentionConfig(archive_after_days=30, expire_after_days=30)


def test_kafka_topics_get_the_configured_retention(config: Config) -> None:
    config.lifecycle.kafka_retention_hours = 36
    assert topic_config(config) == {"retention.ms": "129600000"}
    config.lifecycle.kafka_retention_hours = None
    assert topic_config(config) == {}
