"""The raw-topic envelope contract: its fields and their types, shared by the producers and the readers."""

from __future__ import annotations

# field -> Spark SQL type; payload is the JSON text of the API object (Spark keeps nested JSON verbatim as STRING)
ENVELOPE_TYPES: dict[str, str] = {
    "source": "STRING",
    "entity": "STRING",
    "schema_version": "INT",
    "account_id": "STRING",
    "entity_id": "STRING",
    "fetched_at": "STRING",
    "request_id": "STRING",
    "run_id": "STRING",
    "payload": "STRING",
}
ENVELOPE_FIELDS: tuple[str, ...] = tuple(ENVELOPE_TYPES)
ENVELOPE_DDL = ", ".join(f"{name} {kind}" for name, kind in ENVELOPE_TYPES.items())
