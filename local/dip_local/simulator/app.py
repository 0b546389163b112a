"""The simulator's FastAPI app: both platforms' routes, the fault gate and the ``/_sim`` admin endpoints."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response
from pydantic import BaseModel

from dip.connectors.clock import SimulatedClock
from dip_local.simulator import instagram, tiktok
from dip_local.simulator.data import NEWEST_POST, POST_GAP_HOURS, POSTS_PER_ACCOUNT, build_dataset
from dip_local.simulator.faults import Faults
from dip_local.simulator.state import DevCredentials, SimState

TIKTOK_PREFIXES = ("/v2/oauth/", "/v2/user/", "/v2/video/")


class Advance(BaseModel):
    ticks: int = 1


def _fault_response(state: SimState, path: str, kind: str, ig_code: int) -> Response:
    retry_after = {"Retry-After": str(state.faults.retry_after_s)}
    is_tiktok = path.startswith(TIKTOK_PREFIXES)
    if kind == "rate_limit":
        if is_tiktok:
            response = tiktok.tiktok_error(429, "rate_limit_exceeded", "API rate limit exceeded, try again later.")
        else:
            response = instagram.graph_error(
                400, ig_code, f"(#{ig_code}) Application request limit reached", kind="OAuthException"
            )
        response.headers.update(retry_after)
        return response
    if is_tiktok:
        return tiktok.tiktok_error(500, "internal_error", "Something went wrong. Please try again later.")
    return instagram.graph_error(
        500, 2, "An unexpected error has occurred. Please retry your request later.", kind="OAuthException"
    )


def create_app(
    seed: int = 42,
    faults: Faults | None = None,
    credentials: DevCredentials | None = None,
    posts_per_account: int = POSTS_PER_ACCOUNT,
    *,
    newest_post: datetime = NEWEST_POST,
    clock: SimulatedClock | None = None,
    post_gap_hours: tuple[int, int] = POST_GAP_HOURS,
) -> FastAPI:
    """A fresh simulator (its own state) for ``seed``; the state is at ``app.state.sim``.

    ``clock`` makes the world follow that time (see :class:`SimState`); ``newest_post`` places the data in time.
    """
    state = SimState(
        build_dataset(seed, posts_per_account, newest_post, post_gap_hours),
        faults or Faults(),
        credentials or DevCredentials(),
        clock=clock,
    )
    app = FastAPI(title="DIP platform simulator", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sim = state

    @app.middleware("http")
    async def fault_gate(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        path = request.url.path
        if path.startswith("/_sim"):
            return await call_next(request)
        decision = state.gate()
        if decision.delay_s:
            await asyncio.sleep(decision.delay_s)
        if decision.kind:
            return _fault_response(state, path, decision.kind, decision.ig_code)
        return await call_next(request)

    @app.post("/_sim/advance")
    async def advance(body: Advance | None = None) -> dict[str, int]:
        return {"tick": state.advance((body or Advance()).ticks)}

    @app.post("/_sim/faults")
    async def set_faults(body: Faults) -> dict[str, Any]:
        state.set_faults(body)
        return state.faults.model_dump()

    @app.get("/_sim/state")
    async def sim_state() -> dict[str, Any]:
        return {
            "seed": state.dataset.seed,
            "tick": state.account_tick(),
            "now": now.isoformat() if (now := state.now()) is not None else None,
            "requests": state.requests,
            "served": state.served,
            "faults": state.faults.model_dump(),
        }

    app.include_router(tiktok.build_router(state))
    app.include_router(instagram.build_router(state))
    return app
