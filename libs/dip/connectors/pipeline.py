"""Turning stored responses into Kafka messages: map, merge, validate (schema registry), route failures to the DLQ."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field

from dip.config import Config
from dip.connectors.base import ApiResponse, Record, Source
from dip.connectors.kafka_messages import OutMessage, dlq_message, raw_message
from dip.schemas import SchemaRegistry, SchemaViolation, UnknownSchemaVersion


def _text(payload: object) -> str:
    return json.dumps(payload, ensure_ascii=False)


def raw_topic(config: Config, source: str) -> str:
    return f"{config.kafka.topics.raw_prefix}{source}"


def merge_records(records: Iterable[Record]) -> list[Record]:
    """Records of one page with the same key become one: later fields (e.g. video/query metrics) are added."""
    merged: dict[str, Record] = {}
    for record in records:
        previous = merged.get(record.key)
        if previous is None:
            merged[record.key] = record
        else:
            merged[record.key] = Record(
                record.source,
                record.entity,
                record.schema_version,
                record.account_id,
                record.entity_id,
                {**previous.payload, **record.payload},
                record.request_id,
                record.fetched_at,
            )
    return list(merged.values())


@dataclass
class PageOutput:
    """What a page produces: valid records (with their messages) and DLQ messages."""

    records: list[tuple[Record, OutMessage]] = field(default_factory=list)
    dlq: list[OutMessage] = field(default_factory=list)
    dlq_types: list[tuple[str, str]] = field(default_factory=list)


class PageProcessor:
    """Shared by ingest and replay, so a replayed day yields byte-identical raw-topic messages."""

    def __init__(self, config: Config, source: Source, registry: SchemaRegistry, run_id: str) -> None:
        self.config, self.source, self.registry, self.run_id = config, source, registry, run_id
        self.topic = raw_topic(config, source.name)
        self.dlq_topic = config.kafka.topics.dlq

    def _dlq(
        self,
        out: PageOutput,
        entity: str,
        error_type: str,
        message: str,
        original: str | bytes,
        key: str,
        request_id: str,
    ) -> None:
        out.dlq.append(
            dlq_message(
                self.dlq_topic,
                source=self.source.name,
                entity=entity,
                error_type=error_type,
                error_message=message,
                original=original,
                key=key,
                run_id=self.run_id,
                request_id=request_id,
                max_original_bytes=self.config.kafka.dlq_max_original_bytes,
            )
        )
        out.dlq_types.append((entity, error_type))

    def process(self, responses: list[ApiResponse], run_id: str | None = None) -> PageOutput:
        out = PageOutput()
        records: list[Record] = []
        for response in responses:
            key = f"{response.source}:{response.entity}:{response.request_id}"
            if response.error is not None:
                self._dlq(
                    out, response.entity, "malformed_response", response.error, response.body, key, response.request_id
                )
                continue
            try:
                records += self.source.map_response(response)
            except (KeyError, TypeError, AttributeError, ValueError) as exc:
                self._dlq(
                    out,
                    response.entity,
                    "mapping_error",
                    f"{type(exc).__name__}: {exc}",
                    response.body,
                    key,
                    response.request_id,
                )
        for record in merge_records(records):
            try:
                self.registry.validate(record.source, record.entity, record.schema_version, record.payload)
            except UnknownSchemaVersion as exc:
                self._dlq(
                    out,
                    record.entity,
                    "unknown_schema_version",
                    str(exc),
                    _text(record.payload),
                    record.key,
                    record.request_id,
                )
                continue
            except SchemaViolation as exc:
                self._dlq(
                    out,
                    record.entity,
                    "schema_violation",
                    str(exc),
                    _text(record.payload),
                    record.key,
                    record.request_id,
                )
                continue
            out.records.append((record, raw_message(record, run_id or self.run_id, self.topic)))
        return out
