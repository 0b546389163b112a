"""``/dashboard``: the page (a login form and the panels' scripts, no data), its static files (the app's own and
plotly.js from the installed ``plotly`` package: no CDN) and the JSON the panels read, which needs an API key or a
JWT holding ``dashboard.scope``."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import redis
from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse

from dip.online.codec import RowError
from dip.online.views import live_view_specs
from dip.serving.auth import Principal
from dip.serving.dashboard import data
from dip.serving.errors import ApiError
from dip.serving.state import Caller, ServingState, State

router = APIRouter(prefix="/dashboard", include_in_schema=False)
STATIC = Path(__file__).parent / "static"
CACHE = {"Cache-Control": "public, max-age=86400"}


def plotly_js() -> Path:
    """plotly.min.js as shipped in the pinned ``plotly`` package's data."""
    return Path(str(resources.files("plotly") / "package_data" / "plotly.min.js"))


def _allowed(state: ServingState, caller: Principal) -> None:
    state.authenticator.require(caller, state.config.dashboard.scope)


@router.get("", response_class=HTMLResponse)
async def page() -> HTMLResponse:
    """The dashboard shell: asks for a key (or reads ``#key=`` from the URL), then loads the panels."""
    return HTMLResponse((STATIC / "index.html").read_text(encoding="utf-8"))


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    """The page's script, style and plotly.js, served by the app itself."""
    if name == "plotly.min.js":
        return FileResponse(plotly_js(), media_type="text/javascript", headers=CACHE)
    files = {p.name: p for p in STATIC.iterdir() if p.suffix in (".js", ".css")}
    if name not in files:
        raise ApiError(404, "not_found", f"no static file {name!r}")
    kind = "text/javascript" if name.endswith(".js") else "text/css"
    return FileResponse(files[name], media_type=kind, headers={"Cache-Control": "no-cache"})


@router.get("/api/accounts")
async def accounts(caller: Caller, state: State) -> list[dict[str, str]]:
    """Accounts with gold rows (the account picker)."""
    _allowed(state, caller)
    return await run_in_threadpool(data.accounts, state.config)


@router.get("/api/accounts/{source}/{account_id}")
async def account(source: str, account_id: str, caller: Caller, state: State) -> dict[str, Any]:
    """Every panel of one account, with its live numbers from the online store when present."""
    _allowed(state, caller)
    view = await run_in_threadpool(data.account_view, state.config, source, account_id)
    if view is None:
        raise ApiError(404, "unknown_account", f"no gold rows for {source}/{account_id}")
    view["live"] = None
    for spec in live_view_specs(state.config.online, "account"):
        try:
            record = (await state.lookup(spec, [account_id]))[0]
        except (redis.RedisError, RowError):  # optional here: the panel then says "no live numbers"
            record = None
        if record is not None:
            view["live"] = {"view": spec.name, "event_ts_ms": record.event_ts_ms, **record.features}
            break
    return view


@router.get("/api/health")
async def health(caller: Caller, state: State) -> dict[str, Any]:
    """Freshness per table and DLQ/quarantine counts (the pipeline health strip)."""
    _allowed(state, caller)
    return await run_in_threadpool(data.pipeline_health, state.config)
