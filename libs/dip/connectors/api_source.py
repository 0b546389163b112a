"""What the platform API sources share: their settings and API client, error answers mapped to exceptions,
records of a response, and newest-first paging from a saved cursor."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from dip.config import Config
from dip.config.models import ApiConnectorConfig
from dip.connectors.base import ApiResponse, FetchContext, Page, Record, Source
from dip.connectors.clock import Clock, utc_now
from dip.connectors.errors import ApiError, AuthExpired, ConnectorError, RateLimited, RetryableError, is_permanent
from dip.connectors.http import ApiClient, Auth, Classifier
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.throttle import RequestBudget, parse_retry_after
from dip.io.secrets import SecretsProvider


def api_error(
    message: str,
    status: int,
    code: Any,
    headers: httpx.Headers,
    *,
    rate_limited: bool,
    token_expired: bool,
    transient: bool,
) -> ConnectorError:
    """The exception for an error answer: HTTP 429 or a rate-limit code waits for ``Retry-After``; 401 or an
    expired-token code refreshes the token; 5xx or a transient code is retried; anything else is permanent."""
    if status == 429 or rate_limited:
        return RateLimited(message, retry_after=parse_retry_after(headers.get("retry-after")), status=status, code=code)
    if status == 401 or token_expired:
        return AuthExpired(message, status=status, code=code)
    if status >= 500 or transient:
        return RetryableError(message, status=status, code=code)
    return ApiError(message, status=status, code=code)


class TokenAuth:
    """Base of a source's :class:`Auth`: a token from the platform's OAuth endpoint, renewed under a lock (the
    accounts fetched in parallel share it); the token exchange is never stored in the raw zone."""

    def __init__(self, client: ApiClient, version: str) -> None:
        self._client, self._version = client, version
        self._token: str | None = None
        self._lock = threading.Lock()

    def _fetch_token(self, method: str, path: str, **options: Any) -> dict[str, Any]:
        """``method /<version>/<path>``: keeps the answer's ``access_token`` and returns the whole answer."""
        answer = self._client.request(
            method, f"/{self._version}/{path}", entity="oauth", endpoint="oauth", account_id="", store=False, **options
        )
        self._token = str(answer.data["access_token"])
        return answer.data


@dataclass(frozen=True)
class Listing:
    """One page of a newest-first listing: its items' times (epoch seconds), whether it had any item, and the
    cursor of the next page (None on the last)."""

    times: list[int]
    had_items: bool
    next_cursor: str | None


def newest_first(
    ctx: FetchContext, stream: str, cursor: str | None, fetch: Callable[[str | None], Listing]
) -> Iterator[Page]:
    """Page a newest-first listing from ``cursor`` (the saved one, or None for the newest) until its end, a page
    reaching ``hwm - lookback`` (older items are settled), or the pager stops it; ``fetch`` gets one page and
    asks for whatever its items need. A saved cursor the API refuses for good is dropped once, with a warning."""
    cutoff = ctx.cutoff(stream)
    pager = ctx.pager(stream)
    while True:
        try:
            listing = fetch(cursor)
        except ApiError as exc:
            if cursor and pager.pages == 0 and is_permanent(exc):  # the saved cursor: stale or invalid
                ctx.warn(stream, "cursor_reset", f"{stream}: saved cursor rejected ({exc}); paging from the newest")
                cursor = None
                continue
            raise
        reached = cutoff is not None and any(t < cutoff for t in listing.times)
        done = not listing.next_cursor or reached or not listing.had_items
        stop = pager.stop_reason(None if done else listing.next_cursor)
        done = done or stop == "repeated_cursor"
        yield Page(
            stream, cursor=None if done else listing.next_cursor, done=done, max_ts=max(listing.times, default=None)
        )
        if done or stop:
            return
        cursor = listing.next_cursor


class ApiSource(Source):
    """A source over one platform's HTTP API, configured by ``connectors.<name>``: requests go through an
    :class:`ApiClient` with the platform's error ``classify`` and a request budget of its rate."""

    classify: ClassVar[Classifier]  # set with staticmethod(...)
    usage_headers: ClassVar[bool] = False  # slow down on the API's usage headers
    settings: ApiConnectorConfig

    def __init__(
        self,
        config: Config,
        secrets: SecretsProvider,
        metrics: ConnectorMetrics,
        transport: httpx.BaseTransport | None = None,
        *,
        clock: Clock = utc_now,
    ) -> None:
        super().__init__(config, secrets, metrics, clock=clock)
        self.settings = getattr(config.connectors, self.name)
        self.version = self.settings.api_version
        self.client = ApiClient(
            self.name,
            self.settings.base_url,
            config.connectors,
            RequestBudget(self.settings.requests_per_second),
            metrics,
            self.classify,
            usage_headers=self.usage_headers,
            transport=transport,
            clock=clock,
        )

    def accounts(self) -> list[str]:
        return list(self.settings.accounts)

    def request(
        self, ctx: FetchContext, method: str, path: str, *, entity: str, endpoint: str, auth: Auth, **options: Any
    ) -> ApiResponse:
        """``method /<version>/<path>`` for the account being paged; the exchange is kept in ``ctx.responses``."""
        return self.client.request(
            method,
            f"/{self.version}/{path}",
            entity=entity,
            endpoint=endpoint,
            account_id=ctx.account_id,
            auth=auth,
            sink=ctx.responses,
            **options,
        )

    def record(self, response: ApiResponse, entity: str, entity_id: str, payload: dict[str, Any]) -> Record:
        """A record of ``entity`` found in ``response``, at the schema version this source produces."""
        return Record(
            self.name,
            entity,
            self.entities[entity],
            response.account_id,
            entity_id,
            payload,
            response.request_id,
            response.fetched_at,
        )

    def close(self) -> None:
        self.client.close()
