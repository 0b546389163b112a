"""Shared fixtures: one test config (lake in a temp folder), one session-scoped SparkSession, the stack."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from dip.config import Config, load_config

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture(name: str) -> str:
    """Text of ``tests/fixtures/<name>``."""
    return (FIXTURES / name).read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def test_config(tmp_path_factory: pytest.TempPathFactory) -> Config:
    """The local config with the lake in a per-run temp folder and a small shuffle."""
    lake = tmp_path_factory.mktemp("lake")
    environ = {
        **os.environ,
        "DIP_ENV": "local",
        "DIP__LAKE__ROOT": lake.as_uri(),
    }
    config = load_config(environ=environ)
    config.spark.conf = {**config.spark.conf, "spark.sql.shuffle.partitions": "2"}
    return config


@pytest.fixture(scope="session")
def stack(test_config: Config) -> Config:
    """Kafka and Redis up (idempotent: reuses what `make test` started)."""
    from dip_local.jars import resolve
    from dip_local.stack import stack_up

    resolve(test_config, "kafka-broker")
    stack_up(test_config)
    return test_config


@pytest.fixture(scope="session")
def spark(test_config: Config) -> Iterator:
    """The one SparkSession of the test run, built by the product's session factory."""
    from dip.spark import build_session
    from dip_local.jars import resolve

    resolve(test_config, "spark")
    session = build_session(test_config, app_name="dip-tests")
    yield session
    session.stop()
