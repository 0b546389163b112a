"""Request pacing: a per-app budget shared by all workers, Retry-After parsing and usage-header slowdown."""

from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Mapping
from email.utils import parsedate_to_datetime


class RequestBudget:
    """A token bucket of ``rate`` requests/second (burst ``burst``) plus a shared "nobody before" pause.

    One instance per platform app, shared by every worker thread, so the app stays within its quota
    however many accounts are fetched in parallel.
    """

    def __init__(
        self,
        rate: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate = max(rate, 0.001)
        self.capacity = float(burst if burst is not None else max(1, int(rate)))
        self._tokens = self.capacity
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def pause(self, seconds: float) -> None:
        """Hold every worker for ``seconds`` from now (a 429 or a usage header seen by one applies to all)."""
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + max(0.0, seconds))

    def acquire(self) -> float:
        """Block until a request may be sent; returns the seconds waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
                self._updated = now
                wait = self._paused_until - now
                if wait <= 0:
                    if self._tokens >= 1:
                        self._tokens -= 1
                        return waited
                    wait = (1 - self._tokens) / self.rate
            self._sleep(wait)
            waited += wait


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date); None if absent/invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError):
        return None
    return max(0.0, when - (time.time() if now is None else now))


def usage_pct(headers: Mapping[str, str]) -> tuple[float, float]:
    """Highest usage percentage and longest ``estimated_time_to_regain_access`` (minutes) in Graph usage headers."""
    highest, regain = 0.0, 0.0

    def take(entry: Mapping[str, object]) -> None:
        nonlocal highest, regain
        for key in ("call_count", "total_cputime", "total_time", "acc_id_util_pct"):
            value = entry.get(key)
            if isinstance(value, int | float):
                highest = max(highest, float(value))
        eta = entry.get("estimated_time_to_regain_access")
        if isinstance(eta, int | float):
            regain = max(regain, float(eta))

    for name in ("x-app-usage", "x-ad-account-usage"):
        raw = headers.get(name)
        if raw:
            try:
                parsed = json.loads(raw)
            except ValueError:
                continue
            if isinstance(parsed, dict):
                take(parsed)
    raw = headers.get("x-business-use-case-usage")
    if raw:
        try:
            parsed = json.loads(raw)
        except ValueError:
            parsed = {}
        for entries in parsed.values() if isinstance(parsed, dict) else ():
            for entry in entries if isinstance(entries, list) else ():
                if isinstance(entry, dict):
                    take(entry)
    return highest, regain


def usage_delay(headers: Mapping[str, str], threshold_pct: float, max_delay_s: float) -> float:
    """Seconds to slow down *before* hitting the Graph API limit.

    0 below ``threshold_pct``; above it the delay grows linearly to ``max_delay_s`` at 100 %; when the
    platform says access is blocked (``estimated_time_to_regain_access`` minutes) wait that long (capped).
    """
    pct, regain_min = usage_pct(headers)
    if regain_min > 0:
        return min(regain_min * 60.0, max(max_delay_s, 60.0) * 10)
    if pct < threshold_pct:
        return 0.0
    span = max(100.0 - threshold_pct, 1e-9)
    return round(min(1.0, (pct - threshold_pct) / span) * max_delay_s, 3)


def backoff_delay(attempt: int, initial_s: float, max_s: float, rng: random.Random | None = None) -> float:
    """Exponential backoff with full-range jitter: ``min(max_s, initial * 2**(attempt-1)) * U(0.5, 1.0)``."""
    base = min(max_s, initial_s * (2 ** max(0, attempt - 1)))
    return base * (0.5 + 0.5 * (rng or random).random())
