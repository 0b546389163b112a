"""Prediction log over real services: uvicorn + real Redis feature hash -> POST /v1/score -> Kafka envelope ->
bronze -> silver ``predictions`` (the feedback loop's first half)."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from confluent_kafka import Consumer
from confluent_kafka.admin import AdminClient, NewTopic
from pyspark.testing import assertDataFrameEqual

from dip.config import Config, load_config
from dip.online import make_client, view_specs, write_batch
from dip.online.codec import FeatureValue
from dip.serving import create_app, hash_api_key
from dip.silver.normalize import PREDICTIONS_DDL
from dip.silver.stream_job import run_stream_silver
from dip.streaming.bronze_job import run_stream_bronze
from dip.tables import SILVER_PREDICTIONS
from tests.integration.helpers import isolated_config
from tests.integration.test_serving import serving

pytestmark = [pytest.mark.integration, pytest.mark.slow]

RUN = uuid.uuid4().hex[:12]
VIEW = f"test_predlog_{RUN}"
TOPIC = f"t{RUN}.predictions"


def _utc(iso: str) -> datetime:
    """``...Z`` text -> the naive UTC datetime Spark shows for a TIMESTAMP in a UTC session."""
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).replace(tzinfo=None)


class FakeModel:
    name, version = "fake-engagement", "42"

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        return 0.01 * float(features["views"] or 0)  # type: ignore[arg-type]


def test_score_is_logged_to_the_predictions_topic_and_reaches_silver(stack: Config, spark, tmp_path: Path) -> None:
    environ = {
        **os.environ,
        "DIP__LAKE__ROOT": stack.lake.root,
        f"DIP__ONLINE__VIEWS__{VIEW.upper()}": json.dumps(
            {"entity": "post", "ttl_seconds": 3600, "features": {"views": "int"}}
        ),
        "DIP__SERVING__API_KEYS__SCORER": json.dumps({"sha256": hash_api_key("k-1"), "scopes": ["score"]}),
        "DIP__SERVING__SCORING__ENABLED": "true",
        "DIP__SERVING__SCORING__VIEW": VIEW,
        "DIP__SERVING__SCORING__VARIANTS": '[{"name": "only", "weight": 1}]',
        "DIP__KAFKA__TOPICS__PREDICTIONS": TOPIC,
    }
    config = load_config("local", environ=environ)
    admin = AdminClient({"bootstrap.servers": config.kafka.bootstrap_servers})
    for future in admin.create_topics([NewTopic(TOPIC, num_partitions=1, replication_factor=-1)]).values():
        future.result(15)
    redis_client = make_client(config.redis)
    write_batch(
        redis_client,
        [{"entity_id": "p1", "_v": 1, "_ts": int(time.time() * 1000), "_fsv": 4, "views": 50}],
        view_specs(config.online)[VIEW],
    )
    consumer = Consumer(
        {
            "bootstrap.servers": config.kafka.bootstrap_servers,
            "group.id": f"predlog-{RUN}",
            "auto.offset.reset": "earliest",
        }
    )
    try:
        with serving(create_app(config, model=FakeModel())) as url:
            response = httpx.post(
                f"{url}/v1/score",
                json={"entity_id": "p1"},
                headers={"X-API-Key": "k-1", "X-Request-ID": f"req-{RUN}"},
                timeout=5,
            )
            assert response.status_code == 200, response.text
            assert response.json()["score"] == pytest.approx(0.5)
        consumer.subscribe([TOPIC])
        message, deadline = None, time.monotonic() + 45
        while message is None and time.monotonic() < deadline:
            polled = consumer.poll(1.0)
            if polled is not None and polled.error() is None:
                message = polled
        assert message is not None, "no prediction on the topic within 45 s"
        assert message.key() == f"req-{RUN}".encode()
        envelope = json.loads(message.value())
        scored_at = envelope["payload"]["scored_at"]
        assert envelope == {
            "source": "dip",
            "entity": "prediction",
            "schema_version": 1,
            "account_id": None,
            "entity_id": f"req-{RUN}",
            "fetched_at": scored_at,
            "request_id": f"req-{RUN}",
            "run_id": None,
            "payload": {
                "request_id": f"req-{RUN}",
                "entity_id": "p1",
                "view": VIEW,
                "feature_set_version": 4,
                "model_name": "fake-engagement",
                "model_version": "42",
                "variant": "only",
                "score": pytest.approx(0.5),
                "scored_at": scored_at,
            },
        }
        assert scored_at.endswith("Z") and len(scored_at) == len("2026-11-26T14:00:00.123456Z")

        streams = isolated_config(config, tmp_path)  # own lake and raw topics; bronze also reads the predictions
        streams.kafka.topics.predictions = TOPIC
        assert run_stream_bronze(spark, streams).total("bronze") == 1
        assert run_stream_silver(spark, streams).total("silver") == 1
        silver = spark.read.format("delta").load(SILVER_PREDICTIONS.path(streams))
        expected = spark.createDataFrame(
            [(f"req-{RUN}", "dip", "p1", VIEW, 4, "fake-engagement", "42", "only", 0.5, _utc(scored_at))],
            PREDICTIONS_DDL,
        )
        assertDataFrameEqual(silver.select(*expected.columns), expected)
    finally:
        consumer.close()
        keys = list(redis_client.scan_iter(match=f"dip:{VIEW}:*"))
        if keys:
            redis_client.delete(*keys)
        redis_client.close()
        admin.delete_topics([TOPIC])
