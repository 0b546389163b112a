"""Kafka SASL and Redis AUTH credentials: the environment first, else AWS Secrets Manager (moto's mock)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from dip.config import Config, ConfigError, load_config
from dip.config.models import KafkaConfig, RedisConfig
from dip.io import credentials
from dip.io.credentials import kafka_sasl, redis_password
from dip.io.kafka import kafka_client_config
from dip.io.kafka import spark_kafka_options as kafka_options
from dip.io.redis_client import make_client

MSK = KafkaConfig(
    bootstrap_servers="b-1.msk:9096",
    security_protocol="SASL_SSL",
    sasl_mechanism="SCRAM-SHA-512",
    sasl_secret_id="AmazonMSK_dip",
)


@pytest.fixture()
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Secrets Manager mocked in eu-west-1, and no secret cached from an earlier test."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-1",
    }.items():  # fmt: skip
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    credentials._secret.cache_clear()
    with mock_aws():
        yield
    credentials._secret.cache_clear()


def _put(name: str, value: str, region: str = "eu-west-1") -> str:
    return boto3.client("secretsmanager", region_name=region).create_secret(Name=name, SecretString=value)["ARN"]


def test_environment_credentials_need_no_secret_store(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_store(secret_id: str) -> None:
        raise AssertionError(f"fetched {secret_id}")

    monkeypatch.setattr(credentials, "_secret", no_store)
    kafka = MSK.model_copy(update={"sasl_username": SecretStr("env-user"), "sasl_password": SecretStr("env-pw")})
    assert kafka_sasl(kafka) == ("env-user", "env-pw")
    redis = RedisConfig(password=SecretStr("env-token"), password_secret_id="dip/elasticache-auth")
    assert redis_password(redis) == "env-token"
    assert kafka_sasl(KafkaConfig()) is None and redis_password(RedisConfig()) is None


def test_kafka_credentials_from_an_msk_scram_secret(aws: None, test_config: Config) -> None:
    _put("AmazonMSK_dip", json.dumps({"username": "dip-svc", "password": "pw-from-sm"}))
    config = test_config.model_copy(update={"kafka": MSK})
    assert kafka_sasl(MSK) == ("dip-svc", "pw-from-sm")
    assert kafka_options(config) == {
        "kafka.bootstrap.servers": "b-1.msk:9096",
        "kafka.security.protocol": "SASL_SSL",
        "kafka.sasl.mechanism": "SCRAM-SHA-512",
        "kafka.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required "
        'username="dip-svc" password="pw-from-sm";',
    }
    assert kafka_client_config(config) == {
        "bootstrap.servers": "b-1.msk:9096",
        "security.protocol": "SASL_SSL",
        "sasl.mechanism": "SCRAM-SHA-512",
        "sasl.username": "dip-svc",
        "sasl.password": "pw-from-sm",
    }


def test_secret_arn_gives_its_region(aws: None) -> None:
    arn = _put("AmazonMSK_other", json.dumps({"username": "u", "password": "p"}), region="us-east-2")
    assert arn.startswith("arn:aws:secretsmanager:us-east-2:")
    assert kafka_sasl(MSK.model_copy(update={"sasl_secret_id": arn})) == ("u", "p")


def test_secret_without_the_field_is_a_clear_error(aws: None) -> None:
    _put("AmazonMSK_dip", json.dumps({"user": "dip-svc", "password": "pw"}))
    with pytest.raises(ConfigError) as err:
        kafka_sasl(MSK)
    assert str(err.value) == (
        "kafka.sasl_secret_id 'AmazonMSK_dip': the secret has no 'username' "
        '(expected JSON like {"username": "...", "password": "..."})'
    )
    assert "pw" not in str(err.value)


@pytest.mark.parametrize("stored", ["token-plain", json.dumps({"password": "token-plain"})])
def test_redis_password_from_a_plain_or_json_secret(aws: None, stored: str) -> None:
    _put("dip/elasticache-auth", stored)
    redis = RedisConfig(host="cache.example", tls=True, password_secret_id="dip/elasticache-auth")
    assert redis_password(redis) == "token-plain"
    assert make_client(redis).connection_pool.connection_kwargs["password"] == "token-plain"


def test_emr_config_loads_without_secrets_in_the_environment() -> None:
    config = load_config("emr", environ={})
    assert (config.kafka.sasl_secret_id, config.redis.password_secret_id) == ("AmazonMSK_dip", "dip/elasticache-auth")
    assert config.kafka.sasl_password is None and config.redis.password is None
