"""Every Kafka and Redis client DIP builds carries the security settings of the config (EMR: SASL_SSL, Redis TLS+AUTH).

Each entry point that talks to Kafka or Redis is called with ``conf/emr.yaml``; the client classes are replaced by
recorders that keep the settings they were built with and stop there (no network).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import confluent_kafka
import confluent_kafka.admin
import pytest
import redis

from dip.config import Config, load_config

ROOT = Path(__file__).resolve().parents[2]
EMR_ENV = {
    "DIP_HOME": str(ROOT),
    "DIP__KAFKA__SASL_USERNAME": "dip-svc",
    "DIP__KAFKA__SASL_PASSWORD": "kafka-secret-pw",
    "DIP__REDIS__PASSWORD": "redis-auth-token",
}
EXPECTED_KAFKA = {
    "bootstrap.servers": "b-1.dip-msk.example.internal:9096",
    "security.protocol": "SASL_SSL",
    "sasl.mechanism": "SCRAM-SHA-512",
    "sasl.username": "dip-svc",
    "sasl.password": "kafka-secret-pw",
}


class Built(Exception):
    """Raised by a recorder once the client's settings are kept: the code under test stops there."""


@pytest.fixture()
def emr() -> Config:
    return load_config("emr", environ=EMR_ENV)


@pytest.fixture()
def built(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    seen: list[tuple[str, dict[str, Any]]] = []

    def recorder(kind: str) -> Any:
        def build(*args: Any, **kwargs: Any) -> Any:
            seen.append((kind, dict(args[0]) if args else dict(kwargs)))
            raise Built(kind)

        return build

    monkeypatch.setattr(confluent_kafka, "Producer", recorder("producer"))
    monkeypatch.setattr(confluent_kafka, "Consumer", recorder("consumer"))
    monkeypatch.setattr(confluent_kafka.admin, "AdminClient", recorder("admin"))
    monkeypatch.setattr(redis, "Redis", recorder("redis"))
    return seen


def _call(fn: Any, *args: Any) -> None:
    with pytest.raises(Built):
        fn(*args)


def test_every_kafka_client_gets_sasl_ssl_from_the_emr_config(
    emr: Config, built: list, monkeypatch: pytest.MonkeyPatch
) -> None:
    from dip.connectors.publisher import KafkaPublisher
    from dip.doctor import check_kafka
    from dip.reconcile import kafka_watermarks
    from dip.serving.predictions import make_producer
    from dip.streaming import dlq_replay
    from dip_local.demo.clean import clean_topics

    class Rows:
        def collect(self) -> list:
            return []

    _call(KafkaPublisher, emr)
    _call(kafka_watermarks, emr)  # reconcile
    _call(clean_topics, emr)  # demo clean-up
    _call(check_kafka, None, emr, "")  # doctor
    _call(make_producer, emr)  # serving's prediction log
    monkeypatch.setattr(dlq_replay, "dlq_rows", lambda *a, **k: Rows())
    _call(lambda: dlq_replay.replay(None, emr, stage="silver"))  # type: ignore[arg-type]
    assert [kind for kind, _ in built] == ["producer", "consumer", "admin", "producer", "producer", "producer"]
    for kind, conf in built:
        assert {k: conf.get(k) for k in EXPECTED_KAFKA} == EXPECTED_KAFKA, kind
    assert built[0][1]["enable.idempotence"] is True and built[0][1]["acks"] == "all"
    assert built[1][1]["group.id"] == "dip-reconcile" and built[1][1]["enable.auto.commit"] is False


def test_spark_kafka_options_carry_the_same_login(emr: Config) -> None:
    from dip.io.kafka import spark_kafka_options

    assert spark_kafka_options(emr) == {
        "kafka.bootstrap.servers": "b-1.dip-msk.example.internal:9096",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="dip-svc" password="kafka-secret-pw";',
    }


def test_a_ca_bundle_reaches_librdkafka_and_spark(emr: Config) -> None:
    from dip.io.kafka import kafka_client_config, spark_kafka_options

    config = emr.model_copy(update={"kafka": emr.kafka.model_copy(update={"ssl_ca_location": "/etc/ssl/msk.pem"})})
    assert kafka_client_config(config)["ssl.ca.location"] == "/etc/ssl/msk.pem"
    assert spark_kafka_options(config)["kafka.ssl.truststore.location"] == "/etc/ssl/msk.pem"


def test_every_redis_client_gets_tls_and_auth_from_the_emr_config(emr: Config, built: list) -> None:
    from dip.doctor import check_redis
    from dip.io.redis_client import make_client
    from dip_local.demo.clean import clean_online
    from dip_local.demo.run import _redis_keys

    _call(make_client, emr.redis)
    _call(clean_online, emr)
    _call(_redis_keys, emr)
    _call(check_redis, None, emr, "")
    assert [kind for kind, _ in built] == ["redis"] * 4
    for _, options in built:
        assert (options["host"], options["ssl"], options["password"]) == (
            "dip-features.cache.example.internal",
            True,
            "redis-auth-token",
        )


def test_no_module_builds_a_kafka_or_redis_client_of_its_own() -> None:
    """Only ``dip.io.kafka`` and ``dip.io.redis_client`` construct clients; everything else calls them."""
    factories = {"libs/dip/io/kafka.py", "libs/dip/io/redis_client.py"}
    constructors = {"Producer", "Consumer", "AdminClient", "Redis"}
    offenders = []
    for path in sorted((ROOT / "libs" / "dip").rglob("*.py")):
        rel = str(path.relative_to(ROOT))
        if rel in factories:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
                if name in constructors:
                    offenders.append(f"{rel}:{node.lineno} {name}(...)")
    assert offenders == []
