"""The demo's dashboard step: the seller dashboard served once with a one-off key and timed, as a browser loads it
(the page, its script and style, plotly.js, then the accounts, the first account's panels and the health strip)."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass

import httpx

from dip.config import Config


@dataclass
class DashboardCheck:
    """The one-off key, how long a cold page load took and how many accounts it listed."""

    key: str
    digest: str
    seconds: float
    accounts: int


def dashboard_config(config: Config, digest: str) -> Config:
    """``config`` with one API key holding only the dashboard scope."""
    from dip.config.models import ApiKeyConfig

    copy = config.model_copy(deep=True)
    copy.serving.api_keys = {"dashboard": ApiKeyConfig(sha256=digest, scopes=[config.dashboard.scope])}
    copy.serving.scoring.enabled = False
    return copy


def check_dashboard(config: Config) -> DashboardCheck:
    """Serve the app in-process and fetch what the page fetches, in the page's order; the wall time of it all."""
    from dip.serving.app import create_app
    from dip_local.simulator.server import background_server

    key = secrets.token_urlsafe(24)
    digest = hashlib.sha256(key.encode()).hexdigest()
    app = create_app(dashboard_config(config, digest))
    with background_server(app) as url, httpx.Client(base_url=url, timeout=10) as http:
        auth = {"X-API-Key": key}
        started = time.monotonic()
        for path in ("/dashboard", "/dashboard/static/dashboard.css", "/dashboard/static/plotly.min.js",
                     "/dashboard/static/dashboard.js"):  # fmt: skip
            http.get(path).raise_for_status()
        accounts = http.get("/dashboard/api/accounts", headers=auth)
        accounts.raise_for_status()
        http.get("/dashboard/api/health", headers=auth).raise_for_status()
        found = accounts.json()
        if found:
            first = found[0]
            http.get(
                f"/dashboard/api/accounts/{first['source']}/{first['account_id']}", headers=auth
            ).raise_for_status()
        seconds = time.monotonic() - started
    return DashboardCheck(key, digest, seconds, len(found))


def dashboard_hint(config: Config, check: DashboardCheck) -> str:
    """How to open the dashboard over the demo data with this run's one-off key."""
    host, port, scope = config.serving.host, config.serving.port, config.dashboard.scope
    key = f"{{sha256: {check.digest}, scopes: ['{scope}']}}"
    return (
        f'dashboard: DIP__SERVING__API_KEYS__DASHBOARD="{key}" .venv/bin/dip serve,'
        f" then open http://{host}:{port}/dashboard#key={check.key}"
    )
