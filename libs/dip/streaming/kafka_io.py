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
