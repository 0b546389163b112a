"""Fault injection for the simulator: deterministic, counter-based, changeable at runtime."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Faults(BaseModel):
    """Which faults to inject; every counter refers to API requests (admin endpoints are not counted).

    ``rate_limit_every``: every Nth request starts a burst of ``rate_limit_burst`` rate-limit answers
    (TikTok: HTTP 429 ``rate_limit_exceeded``; Instagram: HTTP 400 with error code 4/17/32/613), each with
    ``Retry-After: retry_after_s``. ``error_500_every``: every Nth request answers HTTP 500.
    ``slow_every``/``slow_s``: every Nth request is delayed. ``malformed_pages``: the next N list pages
    (media list / video list) have a truncated, invalid JSON body. ``expire_tokens``: invalidate every
    token issued so far (one-shot, applied when set). ``insights_unavailable_every``: Instagram media whose
    numeric id is a multiple of N answer their insights with the documented error code 10 ("Not enough
    viewers"). ``broken_accounts``: these Instagram account ids answer their media list with HTTP 200 and a JSON list.
    ``expire_tokens_after``: after N more API requests every issued token is invalidated (one-shot): a 401 in
    the middle of paging.
    """

    model_config = ConfigDict(extra="forbid")

    rate_limit_every: int = 0
    rate_limit_burst: int = 2
    retry_after_s: int = 1
    error_500_every: int = 0
    slow_every: int = 0
    slow_s: float = 0.0
    malformed_pages: int = 0
    expire_tokens: bool = False
    token_ttl_s: int = 86_400
    app_call_limit: int = 5_000
    insights_unavailable_every: int = 0
    broken_accounts: list[str] = []
    expire_tokens_after: int = 0


def parse_fault_flags(flags: list[str]) -> Faults:
    """``["rate_limit_every=7", "malformed_pages=1"]`` -> :class:`Faults` (the ``--faults`` CLI flag)."""
    values: dict[str, str] = {}
    for flag in flags:
        for item in flag.split(","):
            if not item.strip():
                continue
            key, sep, value = item.partition("=")
            if not sep:
                raise ValueError(f"fault flag {item!r} must be key=value")
            values[key.strip()] = value.strip()
    return Faults.model_validate(values)
