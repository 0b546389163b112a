"""Fuzz fixtures: the real schema registry (as the silver tests use it)."""

from __future__ import annotations

import pytest

from dip.silver.parse import Registry
from dip.silver.spark_schema import load_registry

from ..silver.conftest import SCHEMAS


@pytest.fixture(scope="session")
def registry() -> Registry:
    return load_registry(SCHEMAS)
