"""One ingest run: every account of every selected source, page by page, state advanced only after Kafka acks."""

from __future__ import annotations

import itertools
import logging
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from dip.config import Config
from dip.connectors.base import FetchContext, Page, Source
from dip.connectors.clock import Clock, utc_now
from dip.connectors.counts import PageCounts
from dip.connectors.errors import ConfigurationError, ConnectorError
from dip.connectors.kafka_messages import fingerprint
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.pipeline import PageProcessor, raw_topic
from dip.connectors.publisher import DeliveryError, KafkaPublisher
from dip.connectors.raw_zone import RawZone, object_store
from dip.connectors.sources import SourceRegistry, default_registry
from dip.connectors.state import AccountState, state_store
from dip.io.forgotten import account_hash, forgotten_hashes
from dip.io.secrets import secrets_provider
from dip.job_runner import Job
from dip.observability.tracing import in_current_context
from dip.schemas import SchemaRegistry, schemas_dir

log = logging.getLogger(__name__)


def new_run_id(clock: Clock = utc_now) -> str:
    """Sortable and unique: ``20261126T140000Z-1a2b3c4d`` (the time on ``clock``)."""
    return f"{clock():%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:8]}"


@dataclass
class SourceSummary(PageCounts):
    """Counters of one source in one run (shown as the ``dip ingest`` summary table)."""

    source: str
    accounts: int = 0
    unchanged: int = 0
    retries: int = 0
    rate_limited: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # "<entity> code <c>: <message>" -> items
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def error(self, message: str) -> None:
        with self._lock:
            self.errors.append(message)

    def warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    def skip(self, reason: str) -> None:
        with self._lock:
            self.skipped[reason] = self.skipped.get(reason, 0) + 1

    @property
    def skipped_items(self) -> int:
        return sum(self.skipped.values())


class _AccountRun:
    """Fetch, land, publish and commit one account of one source."""

    def __init__(self, run: IngestRun, source: Source, account_id: str, summary: SourceSummary) -> None:
        self.run, self.source, self.account_id, self.summary = run, source, account_id, summary
        self.state: AccountState = run.states.load(source.name, account_id)
        lookback = run.config.connectors.restatement_lookback_days * 86_400
        settings = run.config.connectors
        self.ctx = FetchContext(
            account_id,
            self.state.streams,
            lookback,
            settings.max_pages_per_run,
            self.state.retry,  # the same dict: committed with each page
            settings.item_retry_runs,
        )
        self.processor = PageProcessor(run.config, source, run.schemas, run.run_id)

    def execute(self) -> None:
        """Never raises: whatever goes wrong stops this account only (its committed pages stay committed), is
        recorded as an error of the run, and the other accounts and sources go on."""
        try:
            for page in self.source.pages(self.ctx):
                self.commit(page)
        except Exception as exc:  # isolation per account is the point
            expected = isinstance(exc, (ConnectorError, ConfigurationError, DeliveryError))
            self.summary.error(f"{self.source.name}/{self.account_id}: {type(exc).__name__}: {exc}")
            log.warning("ingest of %s/%s stopped: %s", self.source.name, self.account_id, exc, exc_info=not expected)
            try:
                self.land_leftovers()
            except Exception as leftover:  # e.g. Kafka is the thing that failed
                self.summary.error(f"{self.source.name}/{self.account_id}: leftovers not landed: {leftover}")
        finally:
            self.report_items()

    def report_items(self) -> None:
        """Items refused for good and paging warnings: metrics, summary, log."""
        name = self.source.name
        for item in self.ctx.skipped:
            self.run.metrics.item_errors.labels(name, item.entity, item.code).inc()
            self.summary.skip(f"{item.entity} code {item.code}: {item.message.split(' [fbtrace_id')[0]}")
        if self.ctx.skipped:
            log.info("%s/%s: %d item(s) refused by the API, skipped", name, self.account_id, len(self.ctx.skipped))
        for stream, reason, message in self.ctx.warnings:
            self.run.metrics.paging_stops.labels(name, stream, reason).inc()
            self.summary.warn(f"{name}/{self.account_id}: {message}")
            log.warning("%s/%s: %s", name, self.account_id, message)
        self.ctx.skipped, self.ctx.warnings = [], []

    def land_leftovers(self) -> None:
        """Responses of an unfinished page (e.g. malformed bodies before giving up): raw zone + DLQ, no state."""
        responses = self.ctx.drain()
        if not responses:
            return
        self.run.land(responses)
        out = self.processor.process([r for r in responses if r.error is not None])
        self.run.publisher.publish(out.dlq)
        self.count_dlq(out.dlq_types)

    def count_dlq(self, dlq_types: list[tuple[str, str]]) -> None:
        for entity, error_type in dlq_types:
            self.run.metrics.dlq.labels(self.source.name, entity, error_type).inc()
        self.summary.add(dlq=len(dlq_types))

    def commit(self, page: Page) -> None:
        responses = self.ctx.drain()
        self.run.land(responses)
        out = self.processor.process(responses)
        changed, unchanged = [], []
        for record, message in out.records:
            digest = fingerprint(record.payload)
            target = unchanged if self.state.fingerprints.get(record.key) == digest else changed
            target.append((record, message, digest))
        self.run.publisher.publish([m for _, m, _ in changed] + out.dlq)
        for record, _, digest in changed:
            self.state.fingerprints[record.key] = digest
            self.run.metrics.published.labels(record.source, record.entity).inc()
        for record, _, _ in unchanged:
            self.run.metrics.unchanged.labels(record.source, record.entity).inc()
        stream = self.ctx.stream(page.stream)
        if page.max_ts is not None:
            stream.pending_hwm = max(stream.pending_hwm or page.max_ts, page.max_ts)
        stream.cursor = page.cursor
        if page.done:
            if stream.pending_hwm is not None:
                stream.hwm = max(stream.hwm or stream.pending_hwm, stream.pending_hwm)
            stream.pending_hwm = None
        self.run.states.save(self.state)
        self.count_dlq(out.dlq_types)
        self.summary.add(pages=1, responses=len(responses), records=len(changed), unchanged=len(unchanged))


class IngestRun:
    """Wires config, sources, Kafka, raw zone, schema registry and state for one run id."""

    def __init__(
        self,
        config: Config,
        *,
        registry: SourceRegistry | None = None,
        metrics: ConnectorMetrics | None = None,
        publisher: KafkaPublisher | None = None,
        run_id: str | None = None,
        clock: Clock = utc_now,
    ) -> None:
        self.config = config
        self.clock = clock
        self.registry = registry or default_registry()
        self.metrics = metrics or ConnectorMetrics()
        self.publisher = publisher or KafkaPublisher(config)
        self.run_id = run_id or new_run_id(clock)
        self.schemas = SchemaRegistry(schemas_dir(config))
        self.states = state_store(config)
        self.raw = RawZone(object_store(config)) if config.connectors.raw_zone_enabled else None
        self._seq = itertools.count(1)
        self._seq_lock = threading.Lock()

    def land(self, responses: list) -> str:
        """Write bodies to the raw zone (one page id groups them for replay)."""
        with self._seq_lock:
            seqs = [next(self._seq) for _ in responses]
        page_id = f"{self.run_id}-{seqs[0]:06d}" if seqs else ""
        if self.raw is not None:
            for response, seq in zip(responses, seqs, strict=True):
                self.raw.write(response, self.run_id, seq, page_id)
        return page_id

    def run_source(self, name: str) -> SourceSummary:
        summary = SourceSummary(name)
        started = time.monotonic()
        try:
            source = self.registry.create(
                name, self.config, secrets_provider(self.config), self.metrics, clock=self.clock
            )
        except Exception as exc:  # e.g. a missing secret: this source fails, the others run
            summary.error(f"{name}: {type(exc).__name__}: {exc}")
            summary.seconds = time.monotonic() - started
            return summary
        try:
            self.publisher.ensure_topics([raw_topic(self.config, name), self.config.kafka.topics.dlq])
            source.authenticate()
            forgotten = forgotten_hashes(self.config)  # `dip forget`: never fetched again
            listed = source.accounts()
            accounts = [a for a in listed if account_hash(name, a) not in forgotten]
            for _ in range(len(listed) - len(accounts)):
                summary.skip("forgotten account (dip forget)")
            summary.accounts = len(accounts)
            workers = max(1, min(self.config.connectors.max_concurrency, len(accounts) or 1))
            with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"ingest-{name}") as pool:
                runs = [in_current_context(_AccountRun(self, source, a, summary).execute) for a in accounts]
                for future in [pool.submit(run) for run in runs]:
                    future.result()
        except Exception as exc:  # a source's failure must not skip the sources after it
            summary.error(f"{name}: {type(exc).__name__}: {exc}")
            log.warning(
                "ingest of %s stopped: %s",
                name,
                exc,
                exc_info=not isinstance(exc, (ConnectorError, ConfigurationError)),
            )
        finally:
            source.close()
            summary.retries = int(self.metrics.value("dip_connector_retries_total", source=name))
            summary.rate_limited = int(self.metrics.value("dip_connector_rate_limited_total", source=name))
            summary.seconds = time.monotonic() - started
        return summary

    def run(self, selector: str, on_source: Callable[[SourceSummary], None] | None = None) -> list[SourceSummary]:
        """Ingest ``selector`` (``all``, a name or a comma list); sources run one after another."""
        summaries = []
        for name in self.registry.resolve(selector):
            summary = self.run_source(name)
            summaries.append(summary)
            if on_source:
                on_source(summary)
        self.publisher.close()
        return summaries


def run_ingest(config: Config, selector: str = "all", **kwargs: object) -> list[SourceSummary]:
    """Convenience: one :class:`IngestRun` over ``selector``."""
    return IngestRun(config, **kwargs).run(selector)  # type: ignore[arg-type]


INGEST = Job("ingest", counts=("accounts", "records", "unchanged", "dlq", "errors"))


def ingest_counts(summaries: Sequence[SourceSummary]) -> dict[str, int]:
    """The ingest run's counts over its sources' summaries (``dip.connectors.ingest.SourceSummary``)."""
    return {
        "accounts": sum(s.accounts for s in summaries),
        "records": sum(s.records for s in summaries),
        "unchanged": sum(s.unchanged for s in summaries),
        "dlq": sum(s.dlq for s in summaries),
        "errors": sum(len(s.errors) for s in summaries),
    }
