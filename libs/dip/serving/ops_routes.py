"""Operations routes: liveness, readiness, Prometheus metrics and the admin model reload."""

from __future__ import annotations

import redis
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, Response

from dip.serving.errors import error_responses
from dip.serving.schemas import Health, ReloadResponse
from dip.serving.state import Caller, State

router = APIRouter()


@router.get("/healthz", tags=["ops"])
async def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", tags=["ops"], responses={503: {"model": Health}})
async def readyz(state: State) -> JSONResponse:
    """Ready when Redis answers PING and, with scoring enabled, every weighted variant has a model."""
    checks: dict[str, str] = {}
    try:
        await state.client.ping()
        checks["redis"] = "ok"
    except redis.RedisError as exc:
        checks["redis"] = f"unreachable ({type(exc).__name__})"
    if state.scoring.enabled:
        absent = [name for name, weight in state.variant_weights if weight > 0 and state.served.get(name) is None]
        checks["model"] = f"not loaded for variant(s) {', '.join(absent)}" if absent else "ok"
    else:
        checks["model"] = "scoring disabled"
    ready = checks["redis"] == "ok" and not checks["model"].startswith("not loaded")
    body = Health(status="ready" if ready else "not_ready", checks=checks)
    return JSONResponse(body.model_dump(), status_code=200 if ready else 503)


@router.get("/metrics", tags=["ops"], response_class=Response)
async def metrics_endpoint(state: State) -> Response:
    """Prometheus text exposition of this app's metrics."""
    payload, content_type = state.metrics.exposition()
    return Response(payload, media_type=content_type)


@router.post("/v1/admin/reload-model", tags=["admin"], responses=error_responses(401, 403, 404, 503))
async def reload_model_endpoint(caller: Caller, state: State) -> ReloadResponse:
    """Reload the registry's champion (``ml.registered_model@ml.champion_alias``); old and new version."""
    state.authenticator.require(caller, state.config.serving.admin_scope)
    state.require_scoring()
    return await run_in_threadpool(state.reload_model)
