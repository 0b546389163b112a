"""Run the app under uvicorn (`dip serve`) and write its OpenAPI spec."""

from __future__ import annotations

import json
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from dip.config import Config
from dip.serving.app import create_app
from dip.serving.errors import ApiError
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
    """Serve until interrupted; host and port default to ``serving.host``/``serving.port``.

    With scoring enabled the registry's champion is loaded at start and reloaded on SIGHUP or
    ``POST /v1/admin/reload-model``.
    """
    loader = champion_loader(config)
    app = create_app(config, model=loader() if loader else None, model_loader=loader)
    if loader is not None:
        signal.signal(
            signal.SIGHUP, lambda *_: threading.Thread(target=_reload_quietly, args=(app,), daemon=True).start()
        )
    uvicorn.run(
        app,
        host=host or config.serving.host,
        port=port or config.serving.port,
        access_log=config.serving.access_log,
        log_level="info",
    )


def _reload_quietly(app: FastAPI) -> None:
    """SIGHUP: reload through the app (failures are logged by it; the current model keeps serving)."""
    try:
        result = app.state.reload_model()
        log.info("SIGHUP: serving %s v%s", result.model_name, result.version)
    except ApiError as exc:
        log.warning("SIGHUP reload: %s", exc.detail)


def champion_loader(config: Config) -> Callable[[], ScoringModel | None] | None:
    """With scoring enabled, a loader of the registry's champion (it returns None while none is registered)."""
    if not config.serving.scoring.enabled:
        return None
    from dip.ml.model_registry import load_champion

    def load() -> ScoringModel | None:
        model = load_champion(config)
        if model is None:
            ml = config.ml
            log.warning("no %s@%s registered", ml.registered_model, ml.champion_alias)
        return model

    return load
