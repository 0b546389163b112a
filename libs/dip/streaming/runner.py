"""Start a foreachBatch streaming query with the configured trigger and collect per-batch counts."""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql.streaming import StreamingQuery

from dip.observability.streaming import PrometheusQueryListener, StreamMetrics

# fault injection: "<query>:<batch id>" ends the process right after that batch's writes committed and before
# Spark records the batch in the checkpoint (the window a replay must survive); tests and chaos runs set it
CRASH_AFTER_BATCH_ENV = "DIP_FAULT_CRASH_AFTER_BATCH"
CRASH_EXIT_CODE = 86
NEWEST_EVENT = "_newest_event_epoch_s"  # optional entry of a batch's counts: newest event time written
log = logging.getLogger(__name__)


@dataclass
class BatchCounts:
    """Row counts of one micro-batch, by output."""

    batch_id: int
    counts: dict[str, int]
    seconds: float


@dataclass
class RunSummary:
    """What a streaming run did, for the closing summary."""

    query: str
    batches: list[BatchCounts] = field(default_factory=list)
    seconds: float = 0.0

    def total(self, key: str) -> int:
        return sum(b.counts.get(key, 0) for b in self.batches)

    def keys(self) -> list[str]:
        """Count names in first-seen order (``_``-prefixed entries are batch facts, not counts)."""
        seen: dict[str, None] = {}
        for batch in self.batches:
            seen.update(dict.fromkeys(k for k in batch.counts if not k.startswith("_")))
        return list(seen)


def _drain_listener_bus(spark) -> None:
    """Let queued query events (progress, terminated) reach the Python listener before it is removed,
    so none is delivered to a callback server that is shutting down."""
    with contextlib.suppress(Exception):
        spark.sparkContext._jsc.sc().listenerBus().waitUntilEmpty(10_000)


def parse_trigger(trigger: str) -> dict[str, object]:
    """``available-now`` or ``processing-time=<interval>`` -> keyword arguments of ``DataStreamWriter.trigger``."""
    if trigger == "available-now":
        return {"availableNow": True}
    if trigger.startswith("processing-time="):
        interval = trigger.split("=", 1)[1].strip()
        if not interval:
            raise ValueError("processing-time trigger needs an interval, e.g. processing-time=30 seconds")
        return {"processingTime": interval}
    raise ValueError(f"unknown trigger {trigger!r}: use available-now or processing-time=<interval>")


@dataclass
class RunningQuery:
    """A started foreachBatch query, the summary its batches fill in, and its metrics listener."""

    spark: SparkSession
    query: StreamingQuery
    summary: RunSummary
    listener: PrometheusQueryListener | None
    started: float


def start_foreach_batch(
    stream: DataFrame,
    *,
    query_name: str,
    checkpoint: str,
    trigger: str,
    process: Callable[[DataFrame, int], dict[str, int]],
    on_batch: Callable[[BatchCounts], None] = lambda _b: None,
    metrics: StreamMetrics | None = None,
) -> RunningQuery:
    """Start ``process`` on every micro-batch of ``stream``; :func:`await_queries` waits for it."""
    summary = RunSummary(query_name)
    listener = PrometheusQueryListener(metrics, query_name) if metrics is not None else None
    if listener is not None:
        stream.sparkSession.streams.addListener(listener)

    def handle(batch_df: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        counts = process(batch_df, batch_id)
        if os.environ.get(CRASH_AFTER_BATCH_ENV) == f"{query_name}:{batch_id}":
            log.warning("%s batch %d committed; crashing before the checkpoint (%s)", query_name, batch_id,
                        CRASH_AFTER_BATCH_ENV)  # fmt: skip
            logging.shutdown()
            os._exit(CRASH_EXIT_CODE)
        newest = counts.pop(NEWEST_EVENT, None)
        result = BatchCounts(batch_id, counts, time.monotonic() - started)
        summary.batches.append(result)
        if metrics is not None:
            metrics.record_batch(query_name, counts, newest)
        on_batch(result)

    query = (
        stream.writeStream.queryName(query_name)
        .option("checkpointLocation", checkpoint)
        .foreachBatch(handle)
        .trigger(**parse_trigger(trigger))
        .start()
    )
    return RunningQuery(stream.sparkSession, query, summary, listener, time.monotonic())


class _StopRequest:
    """SIGTERM/SIGINT ask running queries to stop after their current micro-batch (main thread only)."""

    def __init__(self) -> None:
        self.signal: int | None = None
        self._previous: dict[int, object] = {}

    def __enter__(self) -> _StopRequest:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum: int, _frame: object) -> None:
        if self.signal is not None and signum == signal.SIGINT:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        self.signal = signum

    def __exit__(self, *_exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def await_queries(running: list[RunningQuery], poll_s: float = 0.5) -> None:
    """Wait until every query ends. On SIGTERM/SIGINT each query is stopped between micro-batches
    (a batch in progress finishes and is committed first), so a restart resumes from the checkpoint
    without redoing work. The first query failure stops the others and is raised."""
    if not running:
        return
    try:
        with _StopRequest() as stop:
            active = list(running)
            while active:
                for item in list(active):
                    query = item.query
                    if stop.signal is not None and query.isActive and not query.status["isTriggerActive"]:
                        query.stop()
                    if not query.isActive:
                        active.remove(item)
                        item.summary.seconds = time.monotonic() - item.started
                        if query.exception() is not None:
                            for other in active:
                                other.query.stop()
                            query.awaitTermination()  # raises the query's error
                if active:
                    with contextlib.suppress(Exception):  # a failure is raised above on the next pass
                        active[0].query.awaitTermination(poll_s)
            if stop.signal is not None:
                log.info("stopped by signal %s after the current micro-batch", stop.signal)
    finally:
        for item in running:
            if item.listener is not None:
                _drain_listener_bus(item.spark)
                item.spark.streams.removeListener(item.listener)


def run_to_end(running: RunningQuery) -> RunSummary:
    """Wait for one started query (see :func:`await_queries`) and return what its batches did."""
    await_queries([running])
    return running.summary
