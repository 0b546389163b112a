"""The simulator's documented dev credentials (and pacing), as the environment variables the connectors read."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlparse

from dip.config import Config
from dip_local.simulator.data import TT_ACCOUNTS
from dip_local.simulator.state import DevCredentials

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def simulator_environment(creds: DevCredentials | None = None) -> dict[str, str]:
    """``DIP__CONNECTORS__*`` secrets that the bundled simulator accepts (dev values, never real ones).

    Also demo pacing: 100 requests/s per app (the simulator has no quota and the demo replays days of
    rounds) and a 3-day restatement lookback (a label is the snapshot 48-72 h after publish; older
    posts need no refetch), which halves what every round lists.
    """
    import json

    creds = creds or DevCredentials()
    tokens = {open_id: f"{creds.tt_refresh_prefix}{open_id}" for open_id, _name in TT_ACCOUNTS}
    return {
        "DIP__CONNECTORS__INSTAGRAM__APP_SECRET": creds.ig_app_secret,
        "DIP__CONNECTORS__INSTAGRAM__ACCESS_TOKEN": creds.ig_user_token,
        "DIP__CONNECTORS__TIKTOK__CLIENT_SECRET": creds.tt_client_secret,
        "DIP__CONNECTORS__TIKTOK__REFRESH_TOKENS": json.dumps(tokens),
        "DIP__CONNECTORS__INSTAGRAM__REQUESTS_PER_SECOND": "100",
        "DIP__CONNECTORS__TIKTOK__REQUESTS_PER_SECOND": "100",
        "DIP__CONNECTORS__RESTATEMENT_LOOKBACK_DAYS": "3",
    }


def targets_simulator(config: Config) -> bool:
    """True when every enabled connector points at a loopback address (the bundled simulator)."""
    urls = [c.base_url for c in (config.connectors.instagram, config.connectors.tiktok) if c.enabled]
    return bool(urls) and all(urlparse(u).hostname in LOOPBACK for u in urls)


def with_simulator_credentials(environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` plus the simulator credentials it does not set already."""
    return {**simulator_environment(), **environ}
