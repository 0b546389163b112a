"""Credentials of the platform services (Kafka SASL, Redis AUTH): the environment first, else AWS Secrets Manager.

On EMR these usually live in Secrets Manager already: Amazon MSK's SASL/SCRAM users are secrets named
``AmazonMSK_*`` holding ``{"username": ..., "password": ...}``, and an ElastiCache AUTH token can have a
secret of its own. They are fetched on first use (not when config loads), once per process.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

from dip.config import ConfigError
from dip.config.models import KafkaConfig, RedisConfig
from dip.io.secrets import aws_secret_string

_ARN_REGION = re.compile(r"^arn:aws[\w-]*:secretsmanager:([a-z0-9-]+):")


@cache
def _secret(secret_id: str) -> Any:
    """A Secrets Manager secret: its JSON object, or the plain string. The region comes from an ARN, else boto3's
    default chain (AWS_REGION, the profile, the instance)."""
    match = _ARN_REGION.match(secret_id)
    text = aws_secret_string(secret_id, match.group(1) if match else None)
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def _field(setting: str, secret_id: str, key: str, example: str) -> str:
    value = _secret(secret_id)
    found = value.get(key) if isinstance(value, dict) else None
    if not isinstance(found, str) or not found:
        raise ConfigError(f"{setting} {secret_id!r}: the secret has no {key!r} (expected JSON like {example})")
    return found


def kafka_sasl(kafka: KafkaConfig) -> tuple[str, str] | None:
    """SASL ``(username, password)``: DIP__KAFKA__SASL_USERNAME/PASSWORD, else the ``kafka.sasl_secret_id`` secret
    (MSK's SCRAM format); None when neither is set."""
    if kafka.sasl_username is not None and kafka.sasl_password is not None:
        return kafka.sasl_username.get_secret_value(), kafka.sasl_password.get_secret_value()
    if kafka.sasl_secret_id:
        example = '{"username": "...", "password": "..."}'
        username = _field("kafka.sasl_secret_id", kafka.sasl_secret_id, "username", example)
        return username, _field("kafka.sasl_secret_id", kafka.sasl_secret_id, "password", example)
    return None


def redis_password(redis: RedisConfig) -> str | None:
    """The Redis AUTH password: DIP__REDIS__PASSWORD, else the ``redis.password_secret_id`` secret (a plain string
    or ``{"password": ...}``); None when neither is set."""
    if redis.password is not None:
        return redis.password.get_secret_value()
    if redis.password_secret_id:
        value = _secret(redis.password_secret_id)
        if isinstance(value, str) and value:
            return value
        return _field("redis.password_secret_id", redis.password_secret_id, "password", '{"password": "..."}')
    return None
