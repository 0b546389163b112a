"""Config precedence, masking and error messages, on a throw-away conf folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dip.config import ConfigError, load_config
from dip.config.loader import env_overrides, masked_dict, secret_paths
from dip.config.models import DatabricksDeployConfig

BASE = """
lake:
  root: s3://bucket/base
spark:
  app_name: base-app
  log_level: WARN
redis:
  port: 6379
kafka:
  bootstrap_servers: base:9092
"""


@pytest.fixture()
def conf_dir(tmp_path: Path) -> Path:
    conf = tmp_path / "conf"
    conf.mkdir()
    (conf / "base.yaml").write_text(BASE)
    (conf / "dev.yaml").write_text("spark:\n  app_name: dev-app\nredis:\n  port: 6380\n")
    (conf / "saslenv.yaml").write_text("kafka:\n  security_protocol: SASL_SSL\n  sasl_mechanism: PLAIN\n")
    return conf


def test_env_file_overrides_base_and_variable_overrides_both(conf_dir: Path) -> None:
    config = load_config("dev", conf_dir=conf_dir, environ={"DIP__REDIS__PORT": "6390"})
    assert config.env == "dev"
    assert config.spark.app_name == "dev-app"  # env file beats base
    assert config.spark.log_level == "WARN"  # base kept where the env file is silent
    assert config.redis.port == 6390  # variable beats env file, parsed to int
    assert config.kafka.bootstrap_servers == "base:9092"
    assert config.lake.root == "s3://bucket/base"


def test_env_selected_by_dip_env_variable(conf_dir: Path) -> None:
    config = load_config(conf_dir=conf_dir, environ={"DIP_ENV": "dev"})
    assert (config.env, config.redis.port) == ("dev", 6380)


def test_list_and_nested_dict_overrides(conf_dir: Path) -> None:
    environ = {
        "DIP__SPARK__PACKAGES": '{"3.5": ["a:b:1", "c:d:2"]}',
        "DIP__SPARK__CONF__spark.sql.shuffle.partitions": "7",
    }
    config = load_config("dev", conf_dir=conf_dir, environ=environ)
    assert config.spark.packages == {"3.5": ["a:b:1", "c:d:2"]}
    assert config.spark.runtime_packages == ["a:b:1", "c:d:2"]
    assert config.spark.conf == {"spark.sql.shuffle.partitions": "7"}


def test_scheme_less_lake_root_becomes_file_uri_under_project(conf_dir: Path) -> None:
    config = load_config("dev", conf_dir=conf_dir, environ={"DIP__LAKE__ROOT": "data/lake"})
    assert config.lake.root == (conf_dir.parent / "data" / "lake").resolve().as_uri()
    assert config.state_dir == str((conf_dir.parent / ".dip").resolve())


def test_unknown_key_from_variable_is_named(conf_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("dev", conf_dir=conf_dir, environ={"DIP__SPARK__APP_NAMES": "x"})
    assert "unknown key spark.app_names (from DIP__SPARK__APP_NAMES)" in str(err.value)


def test_unknown_key_in_file_is_named(conf_dir: Path) -> None:
    (conf_dir / "dev.yaml").write_text("redis:\n  prot: 1\n")
    with pytest.raises(ConfigError, match=r"unknown key redis\.prot"):
        load_config("dev", conf_dir=conf_dir, environ={})


def test_wrong_type_names_key_and_value(conf_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("dev", conf_dir=conf_dir, environ={"DIP__REDIS__PORT": "sixty"})
    assert "redis.port: Input should be a valid integer" in str(err.value)
    assert "(got 'sixty') (from DIP__REDIS__PORT)" in str(err.value)


def test_lake_root_must_be_a_supported_uri(conf_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"lake\.root must be a URI with a supported scheme, got 'ftp://x'"):
        load_config("dev", conf_dir=conf_dir, environ={"DIP__LAKE__ROOT": "ftp://x"})


def test_missing_required_secret_names_the_variable(conf_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        load_config("saslenv", conf_dir=conf_dir, environ={"DIP__KAFKA__SASL_USERNAME": "svc"})
    assert "missing secret kafka.sasl_password: set DIP__KAFKA__SASL_PASSWORD in the environment" in str(err.value)
    assert "svc" not in str(err.value)


def test_secret_in_config_file_is_rejected(conf_dir: Path) -> None:
    (conf_dir / "dev.yaml").write_text("redis:\n  password: hunter2\n")
    with pytest.raises(ConfigError) as err:
        load_config("dev", conf_dir=conf_dir, environ={})
    assert "secret key redis.password must not be in a config file" in str(err.value)
    assert "hunter2" not in str(err.value)


def test_unknown_environment_lists_known_ones(conf_dir: Path) -> None:
    with pytest.raises(ConfigError, match=r"unknown environment 'prod'.*known: dev, saslenv"):
        load_config("prod", conf_dir=conf_dir, environ={})


def test_secrets_are_masked(conf_dir: Path) -> None:
    environ = {
        "DIP__KAFKA__SASL_USERNAME": "svc",
        "DIP__KAFKA__SASL_PASSWORD": "s3cr3t",
        "DIP__REDIS__PASSWORD": "r3d1s",
    }
    config = load_config("saslenv", conf_dir=conf_dir, environ=environ)
    assert config.kafka.sasl_password.get_secret_value() == "s3cr3t"
    shown = masked_dict(config)
    assert shown["kafka"]["sasl_password"] == "********"
    assert shown["kafka"]["sasl_username"] == "********"
    assert shown["redis"]["password"] == "********"
    assert "s3cr3t" not in repr(shown) and "r3d1s" not in repr(shown)


def test_secret_paths_are_derived_from_the_models() -> None:
    assert {"kafka.sasl_username", "kafka.sasl_password", "redis.password"} <= secret_paths()


def test_databricks_secrets_must_be_secret_keys() -> None:
    assert DatabricksDeployConfig(secrets=["kafka.sasl_password", "connectors.tiktok.refresh_tokens"]).secrets == [
        "kafka.sasl_password",
        "connectors.tiktok.refresh_tokens",
    ]
    with pytest.raises(ValueError, match=r"deploy.databricks.secrets: not secret keys: kafka.bootstrap_servers \["):
        DatabricksDeployConfig(secrets=["kafka.bootstrap_servers", "redis.password"])


def test_env_overrides_nest_and_ignore_other_variables() -> None:
    assert env_overrides({"DIP__A__B": "1", "DIP_ENV": "x", "HOME": "/root", "DIP__C": "{k: v}"}) == {
        "a": {"b": "1"},
        "c": {"k": "v"},
    }


def test_env_overrides_reject_empty_segment() -> None:
    with pytest.raises(ConfigError, match="malformed override variable DIP__A____B"):
        env_overrides({"DIP__A____B": "1"})


def test_cli_config_show_masks_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    from dip.cli import app

    monkeypatch.setenv("DIP__REDIS__PASSWORD", "topsecret")
    result = CliRunner().invoke(app, ["config", "show", "--env", "local"])
    assert result.exit_code == 0, result.output
    assert "password: '********'" in result.output
    assert "topsecret" not in result.output
    assert "env: local" in result.output


def test_cli_config_show_reports_bad_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from dip.cli import app

    monkeypatch.setenv("DIP__REDIS__NOPE", "1")
    result = CliRunner().invoke(app, ["config", "show"])
    assert result.exit_code == 2
    assert "unknown key redis.nope (from DIP__REDIS__NOPE)" in result.output
