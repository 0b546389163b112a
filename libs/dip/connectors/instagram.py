"""Instagram Graph API source: account fields, media list, media insights, follower demographics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import datetime
from types import MappingProxyType
from typing import Any

import httpx
from pydantic import SecretStr

from dip.config import Config
from dip.connectors.base import ApiResponse, FetchContext, Page, Record, Skipped, Source, json_object
from dip.connectors.clock import Clock, utc_now
from dip.connectors.errors import (
    ApiError,
    AuthExpired,
    ConfigurationError,
    ConnectorError,
    RateLimited,
    RetryableError,
    is_permanent,
)
from dip.connectors.http import ApiClient
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.throttle import RequestBudget, parse_retry_after
from dip.io.secrets import SecretsProvider

ACCOUNT_FIELDS = "username,followers_count,media_count"
MEDIA_FIELDS = "id,caption,media_type,media_product_type,permalink,timestamp,like_count,comments_count"
MEDIA_METRICS = "reach,saved,views,shares,total_interactions"
RATE_LIMIT_CODES = frozenset({4, 17, 32, 613, 80001, 80002})
TOKEN_CODES = frozenset({190, 102})


def parse_timestamp(value: str) -> int:
    """Graph API ``2026-11-20T10:00:00+0000`` -> epoch seconds."""
    return int(datetime.strptime(value, "%Y-%m-%dT%H:%M:%S%z").timestamp())


def classify_graph_error(status: int, data: Any, headers: httpx.Headers) -> ConnectorError | None:
    """Map a Graph API answer to an exception (None when it is a success)."""
    error = data.get("error") if isinstance(data, dict) else None
    if status < 400 and not error:
        return None
    error = error if isinstance(error, dict) else {}
    code = error.get("code")
    message = (
        f"Graph API error {code}/{error.get('error_subcode')} ({error.get('type')}): {error.get('message')} "
        f"[fbtrace_id={error.get('fbtrace_id')}]"
    )
    if status == 429 or code in RATE_LIMIT_CODES:
        return RateLimited(message, retry_after=parse_retry_after(headers.get("retry-after")), status=status, code=code)
    if status == 401 or code in TOKEN_CODES:
        return AuthExpired(message, status=status, code=code)
    if status >= 500 or code in (1, 2) or error.get("is_transient"):
        return RetryableError(message, status=status, code=code)
    return ApiError(message, status=status, code=code)


class GraphAuth:
    """``access_token`` query parameter; a long-lived token obtained (and re-obtained) by ``fb_exchange_token``."""

    def __init__(
        self, client: ApiClient, version: str, app_id: str, app_secret: SecretStr, user_token: SecretStr
    ) -> None:
        self._client, self._version, self._app_id = client, version, app_id
        self._app_secret, self._user_token = app_secret, user_token
        self._token: str | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Exchange the configured token for a long-lived one (``GET /{ver}/oauth/access_token``)."""
        with self._lock:
            answer = self._client.request(
                "GET",
                f"/{self._version}/oauth/access_token",
                entity="oauth",
                endpoint="oauth",
                account_id="",
                params={
                    "grant_type": "fb_exchange_token",
                    "client_id": self._app_id,
                    "client_secret": self._app_secret.get_secret_value(),
                    "fb_exchange_token": self._user_token.get_secret_value(),
                },
                store=False,
            )
            self._token = str(answer.data["access_token"])

    def apply(self, params: dict[str, Any], headers: dict[str, str]) -> None:
        if self._token is None:
            self.refresh()
        params["access_token"] = self._token

    def secret_values(self) -> list[str]:
        return [v for v in (self._token, self._user_token.get_secret_value(), self._app_secret.get_secret_value()) if v]


class InstagramSource(Source):
    """Graph API: ``account``, ``media``, ``media_insights`` and ``audience`` entities per IG user id."""

    name = "instagram"
    entities = MappingProxyType({"account": 1, "media": 1, "media_insights": 1, "audience": 1})

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
        self.settings = config.connectors.instagram
        self.version = self.settings.api_version
        budget = RequestBudget(self.settings.requests_per_second)
        self.client = ApiClient(
            self.name,
            self.settings.base_url,
            config.connectors,
            budget,
            metrics,
            classify_graph_error,
            usage_headers=True,
            transport=transport,
            clock=clock,
        )
        self._auth: GraphAuth | None = None

    def accounts(self) -> list[str]:
        return list(self.settings.accounts)

    def authenticate(self) -> None:
        if not self.settings.app_id:
            raise ConfigurationError("connectors.instagram.app_id is empty")
        self._auth = GraphAuth(
            self.client,
            self.version,
            self.settings.app_id,
            self.secrets.require("instagram.app_secret"),
            self.secrets.require("instagram.access_token"),
        )
        self._auth.refresh()

    @property
    def auth(self) -> GraphAuth:
        if self._auth is None:
            raise ConfigurationError("InstagramSource.authenticate() was not called")
        return self._auth

    def _get(
        self, ctx: FetchContext, path: str, entity: str, params: dict[str, Any], context: dict[str, str] | None = None
    ) -> ApiResponse:
        return self.client.request(
            "GET",
            f"/{self.version}/{path}",
            entity=entity,
            endpoint=entity,
            account_id=ctx.account_id,
            auth=self.auth,
            params=params,
            context=context,
            sink=ctx.responses,
        )

    def pages(self, ctx: FetchContext) -> Iterator[Page]:
        ig_id = ctx.account_id
        self._get(ctx, ig_id, "account", {"fields": ACCOUNT_FIELDS})
        yield Page("account")
        yield from self._media_pages(ctx)
        retry = ctx.retry_ids("media_insights")
        for media_id in retry:  # refused by an earlier run, e.g. too few viewers then; older than the lookback
            self._media_insights(ctx, media_id)
        if retry:
            yield Page("media_insights")
        for breakdown in self.settings.breakdowns:
            params = {"metric": "follower_demographics", "period": "lifetime", "metric_type": "total_value"}
            try:
                self._get(
                    ctx, f"{ig_id}/insights", "audience", params | {"breakdown": breakdown}, {"breakdown": breakdown}
                )
            except ApiError as exc:  # e.g. fewer than 100 followers: no demographics, the account goes on
                if not is_permanent(exc):
                    raise
                ctx.skip(Skipped("audience", f"{ig_id}:{breakdown}", str(exc.code), str(exc)))  # asked every run
        yield Page("audience")

    def _media_pages(self, ctx: FetchContext) -> Iterator[Page]:
        """Newest first; stops at the page reaching ``hwm - lookback`` (older posts' metrics are settled)."""
        state = ctx.stream("media")
        cutoff = ctx.cutoff("media")
        after = state.cursor
        pager = ctx.pager("media")
        while True:
            params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": self.settings.page_size}
            if after:
                params["after"] = after
            try:
                listing = self._get(ctx, f"{ctx.account_id}/media", "media", params)
            except ApiError as exc:
                if after and pager.pages == 0 and is_permanent(exc):  # the saved cursor: stale or invalid
                    ctx.warn("media", "cursor_reset", f"media: saved cursor rejected ({exc}); paging from the newest")
                    after = None
                    continue
                raise
            page = json_object(listing)
            items = [m for m in page.get("data", []) if isinstance(m, dict)]
            for media in items:
                self._media_insights(ctx, str(media["id"]))
            times = [parse_timestamp(m["timestamp"]) for m in items if m.get("timestamp")]
            paging = page.get("paging") or {}
            next_after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
            reached = cutoff is not None and any(t < cutoff for t in times)
            done = not next_after or reached or not items
            stop = pager.stop_reason(None if done else next_after)
            done = done or stop == "repeated_cursor"
            yield Page("media", cursor=None if done else next_after, done=done, max_ts=max(times, default=None))
            if done or stop:
                return
            after = next_after

    def _media_insights(self, ctx: FetchContext, media_id: str) -> None:
        """One media's insights; a permanent refusal (code 10 too few viewers, permissions, unsupported metric)
        is recorded and the media goes on without them (its views/reach/saves/shares stay null downstream)."""
        try:
            self._get(ctx, f"{media_id}/insights", "media_insights", {"metric": MEDIA_METRICS}, {"media_id": media_id})
        except ApiError as exc:
            if not is_permanent(exc):
                raise
            ctx.skip(Skipped("media_insights", media_id, str(exc.code), str(exc)), retry=True)
        else:
            ctx.fetched("media_insights", media_id)

    def map_response(self, response: ApiResponse) -> list[Record]:
        data = response.data

        def record(entity: str, entity_id: str, payload: dict[str, Any]) -> Record:
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

        if response.entity == "account":
            return [record("account", str(data.get("id", response.account_id)), data)]
        if response.entity == "media":
            return [record("media", str(m["id"]), m) for m in data.get("data", []) if isinstance(m, dict)]
        if response.entity == "media_insights":
            return [record("media_insights", response.context["media_id"], data)]
        if response.entity == "audience":
            return [record("audience", f"{response.account_id}:{response.context['breakdown']}", data)]
        return []

    def close(self) -> None:
        self.client.close()
