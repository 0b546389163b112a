"""Instagram Graph API source: account fields, media list, media insights, follower demographics."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from types import MappingProxyType
from typing import Any

import httpx
from pydantic import SecretStr

from dip.config.models import InstagramConnectorConfig
from dip.connectors.api_source import ApiSource, Listing, TokenAuth, api_error, newest_first
from dip.connectors.base import ApiResponse, FetchContext, Page, Record, Skipped, json_object
from dip.connectors.errors import ApiError, ConfigurationError, ConnectorError, is_permanent
from dip.connectors.http import ApiClient

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
    return api_error(
        message,
        status,
        code,
        headers,
        rate_limited=code in RATE_LIMIT_CODES,
        token_expired=code in TOKEN_CODES,
        transient=code in (1, 2) or bool(error.get("is_transient")),
    )


class GraphAuth(TokenAuth):
    """``access_token`` query parameter; a long-lived token obtained (and re-obtained) by ``fb_exchange_token``."""

    def __init__(
        self, client: ApiClient, version: str, app_id: str, app_secret: SecretStr, user_token: SecretStr
    ) -> None:
        super().__init__(client, version)
        self._app_id, self._app_secret, self._user_token = app_id, app_secret, user_token

    def refresh(self) -> None:
        """Exchange the configured token for a long-lived one (``GET /{ver}/oauth/access_token``)."""
        with self._lock:
            params = {
                "grant_type": "fb_exchange_token",
                "client_id": self._app_id,
                "client_secret": self._app_secret.get_secret_value(),
                "fb_exchange_token": self._user_token.get_secret_value(),
            }
            self._fetch_token("GET", "oauth/access_token", params=params)

    def apply(self, params: dict[str, Any], headers: dict[str, str]) -> None:
        if self._token is None:
            self.refresh()
        params["access_token"] = self._token

    def secret_values(self) -> list[str]:
        return [v for v in (self._token, self._user_token.get_secret_value(), self._app_secret.get_secret_value()) if v]


class InstagramSource(ApiSource):
    """Graph API: ``account``, ``media``, ``media_insights`` and ``audience`` entities per IG user id."""

    name = "instagram"
    entities = MappingProxyType({"account": 1, "media": 1, "media_insights": 1, "audience": 1})
    classify = staticmethod(classify_graph_error)
    usage_headers = True
    settings: InstagramConnectorConfig
    _auth: GraphAuth | None = None

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
        return self.request(
            ctx, "GET", path, entity=entity, endpoint=entity, auth=self.auth, params=params, context=context
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

        def fetch(after: str | None) -> Listing:
            params: dict[str, Any] = {"fields": MEDIA_FIELDS, "limit": self.settings.page_size}
            if after:
                params["after"] = after
            page = json_object(self._get(ctx, f"{ctx.account_id}/media", "media", params))
            items = [m for m in page.get("data", []) if isinstance(m, dict)]
            for media in items:
                self._media_insights(ctx, str(media["id"]))
            paging = page.get("paging") or {}
            next_after = (paging.get("cursors") or {}).get("after") if paging.get("next") else None
            return Listing(
                [parse_timestamp(m["timestamp"]) for m in items if m.get("timestamp")], bool(items), next_after
            )

        return newest_first(ctx, "media", ctx.stream("media").cursor, fetch)

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
        if response.entity == "account":
            return [self.record(response, "account", str(data.get("id", response.account_id)), data)]
        if response.entity == "media":
            return [
                self.record(response, "media", str(m["id"]), m) for m in data.get("data", []) if isinstance(m, dict)
            ]
        if response.entity == "media_insights":
            return [self.record(response, "media_insights", response.context["media_id"], data)]
        if response.entity == "audience":
            return [self.record(response, "audience", f"{response.account_id}:{response.context['breakdown']}", data)]
        return []
