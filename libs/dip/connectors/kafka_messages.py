"""The Kafka contract: raw-topic envelope, message key and DLQ message."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from dip.connectors.base import Record
from dip.connectors.http import utc_now_iso
from dip.schemas.envelope import ENVELOPE_FIELDS


@dataclass(frozen=True)
class OutMessage:
    """One message to produce."""

    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]]


def _dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def envelope(record: Record, run_id: str) -> dict[str, Any]:
    """Exactly the contract's envelope fields, in its order; ``payload`` is the API object as received."""
    values = {"run_id": run_id}
    return {name: values[name] if name in values else getattr(record, name) for name in ENVELOPE_FIELDS}


def raw_message(record: Record, run_id: str, topic: str) -> OutMessage:
    """Key ``<source>:<entity>:<entity_id>``, value = JSON envelope (UTF-8, no ASCII escaping)."""
    headers = [
        ("source", record.source.encode()),
        ("entity", record.entity.encode()),
        ("schema_version", str(record.schema_version).encode()),
    ]
    return OutMessage(topic, record.key.encode("utf-8"), _dumps(envelope(record, run_id)), headers)


def fingerprint(payload: Any) -> str:
    """Stable hash of a payload: a snapshot is published only when this changes."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def dlq_message(
    topic: str,
    *,
    source: str,
    entity: str,
    error_type: str,
    error_message: str,
    original: str | bytes,
    key: str,
    run_id: str,
    request_id: str = "",
    stage: str = "ingest",
    max_original_bytes: int | None = None,
) -> OutMessage:
    """DLQ value ``{stage, error_type, error_message, source, entity, original, failed_at}`` plus headers;
    an ``original`` over ``max_original_bytes`` is cut there and the message says so."""
    text = original.decode("utf-8", errors="replace") if isinstance(original, bytes) else original
    if max_original_bytes is not None:
        encoded = text.encode("utf-8")
        if len(encoded) > max_original_bytes:
            text = encoded[:max_original_bytes].decode("utf-8", errors="ignore")
            error_message += (
                f" [original cut to its first {max_original_bytes} of {len(encoded)} bytes; the raw zone has it all]"
            )
    value = {
        "stage": stage,
        "error_type": error_type,
        "error_message": error_message,
        "source": source,
        "entity": entity,
        "original": text,
        "failed_at": utc_now_iso(),
    }
    headers = [
        ("stage", stage.encode()),
        ("error_type", error_type.encode()),
        ("source", source.encode()),
        ("entity", entity.encode()),
        ("run_id", run_id.encode()),
        ("request_id", request_id.encode()),
    ]
    return OutMessage(topic, key.encode("utf-8"), _dumps(value), headers)
