"""Kafka producer with idempotence and acks=all; a batch returns only when every message is acknowledged."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from confluent_kafka import KafkaError, KafkaException, Message
from confluent_kafka.admin import NewTopic

from dip.config import Config
from dip.connectors.kafka_messages import OutMessage
from dip.io.kafka import make_admin, make_producer


def topic_config(config: Config) -> dict[str, str]:
    """Topic-level settings of the topics DIP creates: ``retention.ms`` from ``lifecycle.kafka_retention_hours``."""
    hours = config.lifecycle.kafka_retention_hours
    return {"retention.ms": str(int(hours * 3_600_000))} if hours is not None else {}


class DeliveryError(RuntimeError):
    """Kafka did not acknowledge some messages; the page's state must not advance."""


class KafkaPublisher:
    """Thread-safe: workers publish their own batches and each waits for its own acknowledgements."""

    def __init__(self, config: Config, *, delivery_timeout_s: float = 60.0) -> None:
        self.config = config
        self.producer = make_producer(config, **{"enable.idempotence": True, "acks": "all"})
        self.delivery_timeout_s = delivery_timeout_s
        self._known_topics: set[str] = set()
        self._lock = threading.Lock()

    def ensure_topics(self, topics: Iterable[str]) -> None:
        """Create missing topics with ``kafka.topics.partitions`` partitions (broker-default replication) and the
        retention of ``lifecycle.kafka_retention_hours``."""
        wanted = set(topics) - self._known_topics
        if not wanted:
            return
        admin = make_admin(self.config)
        existing = set(admin.list_topics(timeout=10).topics)
        missing = sorted(wanted - existing)
        if missing:
            futures = admin.create_topics(
                [
                    NewTopic(
                        t,
                        num_partitions=self.config.kafka.topics.partitions,
                        replication_factor=-1,
                        config=topic_config(self.config),
                    )
                    for t in missing
                ]
            )
            for _topic, future in futures.items():
                try:
                    future.result(15)
                except KafkaException as exc:
                    if exc.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                        raise
        with self._lock:
            self._known_topics |= wanted

    def publish(self, messages: Sequence[OutMessage]) -> None:
        """Produce ``messages`` and block until all are acknowledged; raise :class:`DeliveryError` otherwise."""
        if not messages:
            return
        pending = [len(messages)]
        errors: list[str] = []
        lock = threading.Lock()

        def delivered(err: KafkaError | None, msg: Message) -> None:
            with lock:
                pending[0] -= 1
                if err is not None:
                    errors.append(f"{msg.topic()}: {err.str()}")

        for message in messages:
            while True:
                try:
                    self.producer.produce(
                        message.topic,
                        key=message.key,
                        value=message.value,
                        headers=message.headers,
                        on_delivery=delivered,
                    )
                    break
                except BufferError:
                    self.producer.poll(0.1)
        deadline = time.monotonic() + self.delivery_timeout_s
        while pending[0] > 0:
            if time.monotonic() > deadline:
                raise DeliveryError(
                    f"{pending[0]} of {len(messages)} messages not acknowledged within {self.delivery_timeout_s:.0f}s"
                )
            self.producer.poll(0.05)
        if errors:
            raise DeliveryError(f"{len(errors)} of {len(messages)} messages failed: {errors[0]}")

    def close(self) -> None:
        self.producer.flush(10)
