"""Kafka connection options for Spark's Kafka source and sink, from config."""

from __future__ import annotations

import re

from dip.config import Config


def raw_topic_pattern(config: Config) -> str:
    """Regex for every raw topic (``dip.raw.<source>``)."""
    return re.escape(config.kafka.topics.raw_prefix) + ".+"


def bronze_topic_pattern(config: Config) -> str:
    """Regex of every topic bronze reads: the raw topics and the serving predictions topic."""
    return f"(?:{raw_topic_pattern(config)})|(?:{re.escape(config.kafka.topics.predictions)})"


def checkpoint_path(config: Config, query: str) -> str:
    """Checkpoint location of a streaming query, under the lake unless configured as a URI."""
    from dip.tables import lake_path

    base = config.streaming.checkpoint_dir
    return f"{base.rstrip('/')}/{query}" if "://" in base else lake_path(config, base, query)
