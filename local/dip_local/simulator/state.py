"""The simulator's mutable world: clock, issued tokens, request counters and fault decisions."""

from __future__ import annotations

import secrets
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dip.connectors.clock import SimulatedClock
from dip_local.simulator.data import Dataset, Post
from dip_local.simulator.faults import Faults

IG_RATE_LIMIT_CODES = (4, 17, 32, 613)


@dataclass(frozen=True)
class DevCredentials:
    """Credentials the simulator accepts (documented dev values; never real secrets)."""

    ig_app_id: str = "dip-dev-app"
    ig_app_secret: str = "dev-ig-app-secret"
    ig_user_token: str = "dev-ig-user-token"
    tt_client_key: str = "dip-dev-client"
    tt_client_secret: str = "dev-tt-client-secret"
    tt_refresh_prefix: str = "dev-refresh-"


@dataclass
class Token:
    platform: str
    subject: str | None
    expires_at: float


@dataclass
class FaultDecision:
    """What the fault gate decided for one request."""

    kind: str | None = None  # None | "rate_limit" | "error_500"
    delay_s: float = 0.0
    ig_code: int = 4


@dataclass
class SimState:
    """Everything that changes while the simulator runs.

    ``clock`` (optional) makes the world live in time: only posts published by its now are listed, a
    post's metrics grow with its age in hours and ``advance`` moves the clock one hour per tick.
    Without it every post is listed at once and ``tick`` only moves on ``advance``.
    """

    dataset: Dataset
    faults: Faults
    credentials: DevCredentials = field(default_factory=DevCredentials)
    tick: int = 0
    requests: int = 0
    burst_left: int = 0
    expire_at: int | None = None  # request number at which every token stops being valid (expire_tokens_after)
    bursts: int = 0
    tokens: dict[str, Token] = field(default_factory=dict)
    recent: deque[float] = field(default_factory=deque)
    served: dict[str, int] = field(default_factory=dict)
    clock: SimulatedClock | None = None

    def advance(self, ticks: int) -> int:
        """Move the world ``ticks`` steps on (hours with a clock); the account tick afterwards."""
        if ticks < 0:
            raise ValueError("ticks must not be negative")
        if self.clock is not None:
            self.clock.advance(timedelta(hours=ticks))
        else:
            self.tick += ticks
        return self.account_tick()

    def now(self) -> datetime | None:
        """The world's time, or None without a clock."""
        return self.clock() if self.clock is not None else None

    def visible(self, posts: list[Post]) -> list[Post]:
        """The posts published by now (all of them without a clock), in their order."""
        now = self.now()
        return posts if now is None else [p for p in posts if p.created <= now]

    def post_tick(self, post: Post) -> int:
        """The tick a post's metrics are at: its age in whole hours with a clock, else ``tick``."""
        now = self.now()
        return self.tick if now is None else _whole_hours(now, post.created)

    def account_tick(self) -> int:
        """The tick account metrics are at: whole hours since the dataset's first post with a clock, else ``tick``."""
        now = self.now()
        return self.tick if now is None else _whole_hours(now, self.dataset.epoch)

    def set_faults(self, faults: Faults) -> None:
        """Replace the fault settings; ``expire_tokens`` takes effect at once and is not kept."""
        if faults.expire_tokens:
            self.tokens.clear()
            faults = faults.model_copy(update={"expire_tokens": False})
        self.faults = faults
        self.burst_left = 0
        self.expire_at = self.requests + faults.expire_tokens_after if faults.expire_tokens_after else None

    def gate(self) -> FaultDecision:
        """Count one API request and decide which fault (if any) it gets."""
        self.requests += 1
        n = self.requests
        if self.expire_at == n:
            self.tokens.clear()  # this request and the ones after it carry a token that is no longer valid
        now = time.monotonic()
        self.recent.append(now)
        while self.recent and self.recent[0] < now - 3600:
            self.recent.popleft()
        f = self.faults
        decision = FaultDecision()
        if f.slow_every and n % f.slow_every == 0:
            decision.delay_s = f.slow_s
        if self.burst_left == 0 and f.rate_limit_every and n % f.rate_limit_every == 0:
            self.burst_left = f.rate_limit_burst
            self.bursts += 1
        if self.burst_left > 0:
            self.burst_left -= 1
            decision.kind = "rate_limit"
            decision.ig_code = IG_RATE_LIMIT_CODES[(self.bursts - 1) % len(IG_RATE_LIMIT_CODES)]
        elif f.error_500_every and n % f.error_500_every == 0:
            decision.kind = "error_500"
        return decision

    def take_malformed(self) -> bool:
        """True (once per configured page) when this list page must be served malformed."""
        if self.faults.malformed_pages > 0:
            self.faults = self.faults.model_copy(update={"malformed_pages": self.faults.malformed_pages - 1})
            return True
        return False

    def usage_pct(self) -> int:
        """Share of the app's hourly call limit used, as the Graph API usage headers report it."""
        return min(100, len(self.recent) * 100 // max(1, self.faults.app_call_limit))

    def issue(self, platform: str, subject: str | None, prefix: str) -> tuple[str, int]:
        """A new token for ``platform`` (and user ``subject``) with the configured lifetime."""
        token = prefix + secrets.token_hex(16)
        ttl = self.faults.token_ttl_s
        self.tokens[token] = Token(platform, subject, time.time() + ttl)
        return token, ttl

    def check(self, platform: str, token: str | None) -> Token | None:
        """The live token record, or None if unknown, expired or for another platform."""
        record = self.tokens.get(token or "")
        if record is None or record.platform != platform or record.expires_at < time.time():
            return None
        return record

    def count(self, endpoint: str) -> None:
        self.served[endpoint] = self.served.get(endpoint, 0) + 1


def _whole_hours(now: datetime, since: datetime) -> int:
    return max(0, int((now - since).total_seconds() // 3600))
