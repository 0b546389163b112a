"""Prediction log: every ``/v1/score`` response is published to ``kafka.topics.predictions`` as a DIP envelope.

The envelope (source ``dip``, entity ``prediction``, schema version 1) flows through bronze into silver
``predictions`` like any connector record. Publishing never blocks or fails a request: ``produce`` is
asynchronous, ``poll(0)`` serves delivery callbacks, and a full queue or a failed delivery only counts
``dip_serving_prediction_log_failures_total``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from dip.config import Config

if TYPE_CHECKING:
    from prometheus_client import Counter

log = logging.getLogger(__name__)

SOURCE = "dip"
ENTITY = "prediction"
SCHEMA_VERSION = 1
PAYLOAD_FIELDS = (
    "request_id",
    "entity_id",
    "view",
    "feature_set_version",
    "model_name",
    "model_version",
    "variant",
    "score",
    "scored_at",
)


class ProducerLike(Protocol):
    """The part of ``confluent_kafka.Producer`` the logger uses."""

    def produce(self, topic: str, value: bytes, key: bytes, on_delivery: Any) -> None: ...

    def poll(self, timeout: float) -> int: ...

    def flush(self, timeout: float) -> int: ...


def iso_utc(ts: datetime) -> str:
    """``2026-11-26T14:00:00.123456Z`` (the envelope's ``fetched_at`` format)."""
    return ts.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def prediction_envelope(payload: dict[str, Any]) -> dict[str, Any]:
    """The DIP envelope of one prediction; ``entity_id`` and ``request_id`` are the request id."""
    missing = [f for f in PAYLOAD_FIELDS if f not in payload]
    if missing:
        raise ValueError(f"prediction payload lacks {', '.join(missing)}")
    return {
        "source": SOURCE,
        "entity": ENTITY,
        "schema_version": SCHEMA_VERSION,
        "account_id": None,
        "entity_id": payload["request_id"],
        "fetched_at": payload["scored_at"],
        "request_id": payload["request_id"],
        "run_id": None,
        "payload": {f: payload[f] for f in PAYLOAD_FIELDS},
    }


def make_producer(config: Config) -> ProducerLike:
    """A confluent-kafka producer with the connection settings and producer options from config."""
    from dip.io.kafka import make_producer

    return make_producer(config, **{"message.timeout.ms": 30_000} | dict(config.kafka.producer))


class PredictionLogger:
    """Publishes prediction envelopes without blocking; failures are counted, logged, never raised."""

    def __init__(self, producer: ProducerLike | None, topic: str, failures: Counter) -> None:
        self.producer = producer
        self.topic = topic
        self.failures = failures

    def _delivered(self, err: Any, _msg: Any) -> None:
        if err is not None:
            self.failures.inc()
            log.warning("prediction log delivery failed: %s", err)

    def log(self, payload: dict[str, Any]) -> None:
        """Queue one prediction for Kafka (key = request id); never raises."""
        if self.producer is None:
            return
        try:
            value = json.dumps(prediction_envelope(payload), ensure_ascii=False, separators=(",", ":")).encode()
            self.producer.produce(
                self.topic, value=value, key=str(payload["request_id"]).encode(), on_delivery=self._delivered
            )
        except Exception as exc:  # BufferError (queue full), KafkaException, serialisation: never fail a request
            self.failures.inc()
            log.warning("prediction log produce failed: %s", exc)
        try:
            self.producer.poll(0)
        except Exception as exc:  # pragma: no cover - poll only serves callbacks
            log.warning("prediction log poll failed: %s", exc)

    def close(self, timeout_s: float = 5.0) -> None:
        """Flush queued predictions (at most ``timeout_s``); undelivered ones are counted as failures."""
        if self.producer is None:
            return
        try:
            remaining = self.producer.flush(timeout_s)
        except Exception as exc:  # pragma: no cover
            log.warning("prediction log flush failed: %s", exc)
            return
        if remaining:
            self.failures.inc(remaining)
            log.warning("prediction log: %d prediction(s) not delivered at shutdown", remaining)
