"""The one place Kafka clients are configured: producer, consumer, admin client and Spark's Kafka options.

Every client gets the same connection settings from ``kafka.*`` (bootstrap servers, security protocol, SASL
mechanism and credentials from the environment or AWS Secrets Manager), so a SASL_SSL cluster such as
Amazon MSK works for ingest, streaming, reconcile, DLQ replay, the doctor and the demo alike.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dip.config import Config
from dip.io.credentials import kafka_sasl

if TYPE_CHECKING:
    from confluent_kafka import Consumer, Producer
    from confluent_kafka.admin import AdminClient


def kafka_client_config(config: Config) -> dict[str, Any]:
    """librdkafka connection settings: bootstrap servers, ``security.protocol`` and, for SASL, the mechanism and
    credentials (read when the client is built, never at config load)."""
    k = config.kafka
    conf: dict[str, Any] = {"bootstrap.servers": k.bootstrap_servers, "security.protocol": k.security_protocol}
    if k.ssl_ca_location:
        conf["ssl.ca.location"] = k.ssl_ca_location
    if k.security_protocol.upper().startswith("SASL"):
        conf["sasl.mechanism"] = (k.sasl_mechanism or "PLAIN").upper()
        if credentials := kafka_sasl(k):
            conf["sasl.username"], conf["sasl.password"] = credentials
    return conf


def make_producer(config: Config, **overrides: Any) -> Producer:
    """A producer with the connection settings, then ``kafka.producer`` options, then ``overrides``."""
    from confluent_kafka import Producer

    return Producer(kafka_client_config(config) | dict(config.kafka.producer) | overrides)


def make_consumer(config: Config, group_id: str, **overrides: Any) -> Consumer:
    """A consumer in ``group_id`` that never commits offsets on its own (callers read, they do not consume)."""
    from confluent_kafka import Consumer

    return Consumer(kafka_client_config(config) | {"group.id": group_id, "enable.auto.commit": False} | overrides)


def make_admin(config: Config) -> AdminClient:
    """An admin client (topic listing, creation and deletion)."""
    from confluent_kafka.admin import AdminClient

    return AdminClient(kafka_client_config(config))


def spark_kafka_options(config: Config) -> dict[str, str]:
    """``kafka.*`` options for Spark's Kafka source and sink: the same servers and security as the clients above,
    with SASL credentials as a JAAS login (PLAIN or SCRAM)."""
    k = config.kafka
    options = {"kafka.bootstrap.servers": k.bootstrap_servers, "kafka.security.protocol": k.security_protocol}
    if k.ssl_ca_location:
        options["kafka.ssl.truststore.type"] = "PEM"
        options["kafka.ssl.truststore.location"] = k.ssl_ca_location
    if k.security_protocol.upper().startswith("SASL"):
        mechanism = (k.sasl_mechanism or "PLAIN").upper()
        options["kafka.sasl.mechanism"] = mechanism
        if credentials := kafka_sasl(k):
            module = (
                "org.apache.kafka.common.security.scram.ScramLoginModule"
                if mechanism.startswith("SCRAM")
                else "org.apache.kafka.common.security.plain.PlainLoginModule"
            )
            user, password = credentials
            options["kafka.sasl.jaas.config"] = f'{module} required username="{user}" password="{password}";'
    return options
