"""Kafka connection options for Spark's Kafka source and sink, from config."""

from __future__ import annotations

import re

from dip.config import Config
from dip.credentials import kafka_sasl


def kafka_options(config: Config) -> dict[str, str]:
    """``kafka.*`` options: bootstrap servers and, for SASL, the JAAS login (credentials: env or Secrets Manager)."""
    options = {
        "kafka.bootstrap.servers": config.kafka.bootstrap_servers,
        "kafka.security.protocol": config.kafka.security_protocol,
    }
    kafka = config.kafka
    credentials = kafka_sasl(kafka) if kafka.security_protocol.upper().startswith("SASL") else None
    if credentials:
        mechanism = (kafka.sasl_mechanism or "PLAIN").upper()
        module = (
            "org.apache.kafka.common.security.scram.ScramLoginModule"
            if mechanism.startswith("SCRAM")
            else "org.apache.kafka.common.security.plain.PlainLoginModule"
        )
        user, password = credentials
        options["kafka.sasl.mechanism"] = mechanism
        options["kafka.sasl.jaas.config"] = f'{module} required username="{user}" password="{password}";'
    return options


def raw_topic_pattern(config: Config) -> str:
    """Regex for every raw topic (``dip.raw.<source>``)."""
    return re.escape(config.kafka.topics.raw_prefix) + ".+"


def bronze_topic_pattern(config: Config) -> str:
    """Regex of every topic bronze reads: the raw topics and the serving predictions topic."""
    return f"(?:{raw_topic_pattern(config)})|(?:{re.escape(config.kafka.topics.predictions)})"


def checkpoint_path(config: Config, query: str) -> str:
    """Checkpoint location of a streaming query, under the lake unless configured as a URI."""
    from dip.lake import lake_path

    base = config.streaming.checkpoint_dir
    return f"{base.rstrip('/')}/{query}" if "://" in base else lake_path(config, base, query)
