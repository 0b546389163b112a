"""Helpers for integration tests: isolated configs and producing known Kafka messages."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

from confluent_kafka import Producer

from dip.config import Config


def isolated_config(base: Config, tmp_path: Path) -> Config:
    """A copy of ``base`` with its own lake folder and its own Kafka topic names."""
    tag = uuid.uuid4().hex[:8]
    config = base.model_copy(deep=True)
    config.lake.root = (tmp_path / "lake").as_uri()
    config.kafka.topics.raw_prefix = f"t{tag}.raw."
    config.kafka.topics.dlq = f"t{tag}.dlq"
    config.kafka.topics.predictions = f"t{tag}.predictions"
    config.streaming.app_id = f"t{tag}"
    return config


def envelope(
    source: str,
    entity: str,
    entity_id: str,
    payload: dict[str, Any],
    *,
    fetched_at: str,
    account_id: str = "acc1",
    schema_version: int = 1,
    run_id: str = "run-1",
) -> bytes:
    """One connector envelope as the connectors publish it."""
    return json.dumps(
        {
            "source": source,
            "entity": entity,
            "schema_version": schema_version,
            "account_id": account_id,
            "entity_id": entity_id,
            "fetched_at": fetched_at,
            "request_id": f"req-{entity_id}",
            "run_id": run_id,
            "payload": payload,
        },
        ensure_ascii=False,
    ).encode()


def produce(config: Config, topic: str, messages: list[tuple[bytes | None, bytes | None]], partition: int = 0) -> None:
    """Produce ``(key, value)`` pairs in order to one partition and wait for every acknowledgement."""
    producer = Producer({"bootstrap.servers": config.kafka.bootstrap_servers, "enable.idempotence": True})
    errors: list[str] = []
    for key, value in messages:
        producer.produce(
            topic,
            key=key,
            value=value,
            partition=partition,
            on_delivery=lambda err, _m: errors.append(str(err)) if err else None,
        )
    assert producer.flush(30) == 0 and not errors, errors
