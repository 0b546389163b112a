"""Run the app under uvicorn (`dip serve`) and write its OpenAPI spec."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path

import uvicorn

from dip.config import Config
from dip.serving.app import create_app
from dip.serving.scoring import ScoringModel

log = logging.getLogger(__name__)


def openapi_json(config: Config) -> str:
    """The app's OpenAPI document as stable, indented JSON (what ``docs/openapi.json`` holds)."""
    spec = create_app(config).openapi()
    return json.dumps(spec, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write_openapi(config: Config, path: Path) -> None:
    """Write :func:`openapi_json` to ``path``."""
    path.write_text(openapi_json(config), encoding="utf-8")


def serve(config: Config, host: str | None = None, port: int | None = None) -> None:
    """Serve until interrupted; host and port default to ``serving.host``/``serving.port``."""
    uvicorn.run(
        create_app(config, model=champion_model(config)),
        host=host or config.serving.host,
        port=port or config.serving.port,
        access_log=config.serving.access_log,
        log_level="info",
    )


def champion_model(config: Config) -> ScoringModel | None:
    """With scoring enabled, the registry's champion (None when none is registered); SIGHUP reloads it."""
    if not config.serving.scoring.enabled:
        return None
    from dip.ml.registry import ChampionHandle, load_champion

    model = load_champion(config)
    if model is None:
        log.warning("no %s@%s registered: /v1/score answers 503", config.ml.registered_model, config.ml.champion_alias)
        return None
    handle = ChampionHandle(config, model)
    log.info("scoring with %s v%s", handle.name, handle.version)
    signal.signal(signal.SIGHUP, lambda *_: threading.Thread(target=handle.reload, daemon=True).start())
    return handle
