"""Prediction log: the envelope, non-blocking produce, failure counting, and `/v1/score` publishing."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, Counter

from dip.config import Config
from dip.config.models import ApiKeyConfig
from dip.online.codec import FeatureValue
from dip.serving import create_app, hash_api_key
from dip.serving.predictions import PredictionLogger, prediction_envelope
from dip.streaming.kafka_io import bronze_topic_pattern

PAYLOAD = {
    "request_id": "req-1",
    "entity_id": "p1",
    "view": "post_features_daily",
    "feature_set_version": 3,
    "model_name": "dip-engagement",
    "model_version": "7",
    "variant": "champion",
    "score": 0.5,
    "scored_at": "2026-11-26T14:00:00.123456Z",
}


class FakeProducer:
    def __init__(self, fail: Exception | None = None, undelivered: int = 0) -> None:
        self.sent: list[tuple[str, bytes, bytes]] = []
        self.callbacks: list[Any] = []
        self.polls = 0
        self.flushed: list[float] = []
        self.fail = fail
        self.undelivered = undelivered

    def produce(self, topic: str, value: bytes, key: bytes, on_delivery: Any) -> None:
        if self.fail is not None:
            raise self.fail
        self.sent.append((topic, key, value))
        self.callbacks.append(on_delivery)

    def poll(self, timeout: float) -> int:
        self.polls += 1
        return 0

    def flush(self, timeout: float) -> int:
        self.flushed.append(timeout)
        return self.undelivered


def _counter() -> Counter:
    return Counter("failures", "test", registry=CollectorRegistry())


def test_envelope_fields() -> None:
    assert prediction_envelope(PAYLOAD) == {
        "source": "dip",
        "entity": "prediction",
        "schema_version": 1,
        "account_id": None,
        "entity_id": "req-1",
        "fetched_at": "2026-11-26T14:00:00.123456Z",
        "request_id": "req-1",
        "run_id": None,
        "payload": PAYLOAD,
    }
    with pytest.raises(ValueError, match="lacks score"):
        prediction_envelope({k: v for k, v in PAYLOAD.items() if k != "score"})


def test_logger_produces_polls_and_counts_failures() -> None:
    producer, failures = FakeProducer(), _counter()
    logger = PredictionLogger(producer, "dip.predictions", failures)
    logger.log(PAYLOAD)
    topic, key, value = producer.sent[0]
    assert (topic, key, json.loads(value)) == ("dip.predictions", b"req-1", prediction_envelope(PAYLOAD))
    assert producer.polls == 1
    producer.callbacks[0]("broker down", None)
    producer.callbacks[0](None, None)
    assert failures._value.get() == 1

    full = PredictionLogger(FakeProducer(fail=BufferError("queue full")), "t", failures)
    full.log(PAYLOAD)  # never raises
    assert failures._value.get() == 2
    stuck = PredictionLogger(FakeProducer(undelivered=3), "t", failures)
    stuck.close(timeout_s=0.1)
    assert failures._value.get() == 5


def test_bronze_pattern_reads_raw_and_predictions(test_config: Config) -> None:
    import re

    pattern = re.compile(bronze_topic_pattern(test_config))
    assert pattern.fullmatch("dip.raw.instagram") and pattern.fullmatch("dip.predictions")
    assert not pattern.fullmatch("dip.dlq") and not pattern.fullmatch("dipXpredictions")


class Const:
    name, version = "dip-engagement", "9"

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        return 0.25


def test_score_is_published_with_request_id(test_config: Config) -> None:
    config = test_config.model_copy(deep=True)
    config.serving.scoring.enabled = True
    config.serving.scoring.view = next(iter(config.online.views))
    config.serving.api_keys = {"s": ApiKeyConfig(sha256=hash_api_key("k"), scopes=["score"])}
    producer = FakeProducer()
    app = create_app(config, model=Const(), prediction_producer=producer)
    with TestClient(app) as client:
        body = {"entity_id": "p9", "features": {"views": 3}}
        response = client.post("/v1/score", json=body, headers={"X-API-Key": "k", "X-Request-ID": "abc-1"})
        assert response.status_code == 200, response.text
        assert response.headers["X-Request-ID"] == "abc-1"
        other = client.post("/v1/score", json=body, headers={"X-API-Key": "k", "X-Request-ID": "bad id!"})
        assert len(other.headers["X-Request-ID"]) == 32
    assert producer.flushed == [5.0]
    envelope = json.loads(producer.sent[0][2])
    assert envelope["entity_id"] == envelope["request_id"] == "abc-1"
    payload = envelope["payload"]
    assert {k: v for k, v in payload.items() if k != "scored_at"} == {
        "request_id": "abc-1",
        "entity_id": "p9",
        "view": None,
        "feature_set_version": None,
        "model_name": "dip-engagement",
        "model_version": "9",
        "variant": response.json()["variant"],
        "score": 0.25,
    }
    assert payload["scored_at"] == envelope["fetched_at"] and payload["scored_at"].endswith("Z")
    assert json.loads(producer.sent[1][2])["request_id"] == other.headers["X-Request-ID"]
