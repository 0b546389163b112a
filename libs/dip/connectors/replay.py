"""Republish one day of the raw zone into Kafka (same mapping, validation and DLQ routing as ingest)."""

from __future__ import annotations

import itertools
import json
import time
from dataclasses import dataclass

from dip.config import Config
from dip.connectors.base import ApiResponse
from dip.connectors.counts import PageCounts
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.pipeline import PageProcessor, raw_topic
from dip.connectors.publisher import KafkaPublisher
from dip.connectors.raw_zone import ARCHIVE_ROOT, RAW_ROOT, RawZone, StoredResponse, object_store
from dip.connectors.sources import SourceRegistry, default_registry
from dip.io.secrets import EnvSecrets
from dip.schemas import SchemaRegistry, schemas_dir


@dataclass
class ReplaySummary(PageCounts):
    """Counters of one replayed day of one source (shown as the ``dip replay`` summary table)."""

    source: str
    date: str


def _response(stored: StoredResponse) -> ApiResponse:
    meta = stored.meta
    response = ApiResponse(
        meta["source"],
        meta["entity"],
        meta["endpoint"],
        meta["account_id"],
        meta["status"],
        stored.body,
        meta["url"],
        meta["request_id"],
        meta["fetched_at"],
        dict(meta["context"]),
        None,
        meta.get("error"),
    )
    if response.error is None:
        try:
            response.data = json.loads(stored.body)
        except ValueError as exc:
            response.error = f"invalid JSON: {exc}"
    return response


def run_replay(
    config: Config,
    source_name: str,
    date: str,
    *,
    registry: SourceRegistry | None = None,
    publisher: KafkaPublisher | None = None,
    archive: bool = False,
) -> ReplaySummary:
    """Every stored response of ``source_name`` on ``date`` (yyyy-mm-dd), grouped by page, republished; from
    the archive (``<lake>/archive/raw``, where ``dip maintain`` moves old days) with ``archive``.

    Records keep their original ``run_id``, ``request_id`` and ``fetched_at``, so a replayed message is
    byte-identical to the original one and downstream deduplication removes it. No HTTP call is made.
    """
    started = time.monotonic()
    summary = ReplaySummary(source_name, date)
    source = (registry or default_registry()).create(source_name, config, EnvSecrets(config), ConnectorMetrics())
    publisher = publisher or KafkaPublisher(config)
    schemas = SchemaRegistry(schemas_dir(config))
    publisher.ensure_topics([raw_topic(config, source_name), config.kafka.topics.dlq])
    zone = RawZone(object_store(config), ARCHIVE_ROOT if archive else RAW_ROOT)
    stored = list(zone.read_day(source_name, date))
    try:
        for (run_id, _page), group in itertools.groupby(stored, key=lambda s: (s.meta["run_id"], s.meta["page"])):
            responses = [_response(s) for s in group]
            out = PageProcessor(config, source, schemas, run_id).process(responses)
            publisher.publish([m for _, m in out.records] + out.dlq)
            summary.add(pages=1, responses=len(responses), records=len(out.records), dlq=len(out.dlq))
    finally:
        source.close()
        publisher.close()
    summary.seconds = time.monotonic() - started
    return summary
