"""Helpers for connector unit tests: a config and sources over an in-memory httpx transport (no services)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from dip.config import Config, load_config

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture()
def unit_config(tmp_path: Path) -> Config:
    return load_config(
        "local",
        environ={
            "DIP_HOME": str(ROOT),
            "DIP__LAKE__ROOT": str(tmp_path / "lake"),
            "DIP__STATE_DIR": str(tmp_path / "state"),
            "DIP__CONNECTORS__INSTAGRAM__BASE_URL": "http://ig.test",
            "DIP__CONNECTORS__TIKTOK__BASE_URL": "http://tt.test",
            "DIP__CONNECTORS__INSTAGRAM__APP_SECRET": "app-secret-123",
            "DIP__CONNECTORS__INSTAGRAM__ACCESS_TOKEN": "user-token-456",
            "DIP__CONNECTORS__TIKTOK__CLIENT_SECRET": "client-secret-789",
            "DIP__CONNECTORS__TIKTOK__REFRESH_TOKENS": json.dumps({"open1": "refresh-open1"}),
            "DIP__CONNECTORS__INSTAGRAM__REQUESTS_PER_SECOND": "1000",
            "DIP__CONNECTORS__TIKTOK__REQUESTS_PER_SECOND": "1000",
            "DIP__CONNECTORS__BACKOFF_INITIAL_S": "0",
            "DIP__CONNECTORS__BACKOFF_MAX_S": "0",
            "DIP__CONNECTORS__RETRY_AFTER_MAX_S": "0",
        },
    )


def json_response(body: object, status: int = 200, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(
        status, content=json.dumps(body).encode(), headers={"content-type": "application/json", **(headers or {})}
    )


Handler = Callable[[httpx.Request], httpx.Response]
