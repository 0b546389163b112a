"""TikTok API v2 source: user info and videos (video/list for the listing, video/query for metrics)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import httpx
from pydantic import SecretStr

from dip.config import Config
from dip.connectors.base import ApiResponse, FetchContext, Page, Record, Source, json_object
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

USER_FIELDS = "open_id,union_id,display_name,follower_count,following_count,likes_count,video_count"
LIST_FIELDS = "id,create_time,title,video_description,share_url,duration"
METRIC_FIELDS = "id,view_count,like_count,comment_count,share_count"
TOKEN_ERRORS = frozenset({"access_token_invalid", "access_token_expired", "token_expired"})
EXPIRY_MARGIN_S = 60


def classify_tiktok_error(status: int, data: Any, headers: httpx.Headers) -> ConnectorError | None:
    """Map a TikTok v2 answer (``{"data", "error": {"code", "message", "log_id"}}``) to an exception."""
    error = data.get("error") if isinstance(data, dict) else None
    if isinstance(error, str):  # the OAuth endpoint's own shape: {"error": "invalid_client", ...}
        message = f"TikTok OAuth error {error}: {data.get('error_description')} [log_id={data.get('log_id')}]"
        return (
            RetryableError(message, status=status, code=error)
            if status >= 500
            else ApiError(message, status=status, code=error)
        )
    error = error if isinstance(error, dict) else {}
    code = error.get("code", "ok" if status < 400 else "http_error")
    if status < 400 and code == "ok":
        return None
    message = f"TikTok error {code}: {error.get('message')} [log_id={error.get('log_id')}]"
    if status == 429 or code == "rate_limit_exceeded":
        return RateLimited(message, retry_after=parse_retry_after(headers.get("retry-after")), status=status, code=code)
    if status == 401 or code in TOKEN_ERRORS:
        return AuthExpired(message, status=status, code=code)
    if status >= 500 or code == "internal_error":
        return RetryableError(message, status=status, code=code)
    return ApiError(message, status=status, code=code)


class TikTokTokenAuth:
    """Bearer token from ``POST /v2/oauth/token/`` (client_credentials or refresh_token grant), renewed on expiry."""

    def __init__(
        self,
        client: ApiClient,
        version: str,
        client_key: str,
        client_secret: SecretStr,
        refresh_token: SecretStr | None = None,
    ) -> None:
        self._client, self._version, self._client_key = client, version, client_key
        self._client_secret, self._refresh_token = client_secret, refresh_token
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.Lock()

    def refresh(self) -> None:
        with self._lock:
            form = {"client_key": self._client_key, "client_secret": self._client_secret.get_secret_value()}
            if self._refresh_token is None:
                form["grant_type"] = "client_credentials"
            else:
                form |= {"grant_type": "refresh_token", "refresh_token": self._refresh_token.get_secret_value()}
            answer = self._client.request(
                "POST",
                f"/{self._version}/oauth/token/",
                entity="oauth",
                endpoint="oauth",
                account_id="",
                form=form,
                store=False,
            )
            self._token = str(answer.data["access_token"])
            self._expires_at = time.monotonic() + float(answer.data.get("expires_in", 0))
            new_refresh = answer.data.get("refresh_token")
            if new_refresh:
                self._refresh_token = SecretStr(str(new_refresh))

    def apply(self, params: dict[str, Any], headers: dict[str, str]) -> None:
        if self._token is None or time.monotonic() > self._expires_at - EXPIRY_MARGIN_S:
            self.refresh()
        headers["Authorization"] = f"Bearer {self._token}"

    def secret_values(self) -> list[str]:
        values = [self._token, self._client_secret.get_secret_value()]
        if self._refresh_token is not None:
            values.append(self._refresh_token.get_secret_value())
        return [v for v in values if v]


def saved_cursor(ctx: FetchContext, value: str | None) -> int | None:
    """The saved video/list cursor (epoch milliseconds); an unreadable one is dropped with a warning."""
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        ctx.warn("video", "cursor_reset", f"video: saved cursor {value[:40]!r} is not a number; paging from the newest")
        return None


class TikTokSource(Source):
    """API v2: ``user`` and ``video`` entities per authorised user (open id)."""

    name = "tiktok"
    entities = MappingProxyType({"user": 1, "video": 1})

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
        self.settings = config.connectors.tiktok
        self.version = self.settings.api_version
        budget = RequestBudget(self.settings.requests_per_second)
        self.client = ApiClient(
            self.name,
            self.settings.base_url,
            config.connectors,
            budget,
            metrics,
            classify_tiktok_error,
            transport=transport,
            clock=clock,
        )
        self._users: dict[str, TikTokTokenAuth] = {}
        self._lock = threading.Lock()

    def accounts(self) -> list[str]:
        return list(self.settings.accounts)

    def authenticate(self) -> None:
        """Check the app credentials with a client_credentials token (fails fast on a wrong secret)."""
        if not self.settings.client_key:
            raise ConfigurationError("connectors.tiktok.client_key is empty")
        TikTokTokenAuth(
            self.client, self.version, self.settings.client_key, self.secrets.require("tiktok.client_secret")
        ).refresh()

    def user_auth(self, open_id: str) -> TikTokTokenAuth:
        """The user's bearer token, from their refresh token (``tiktok.refresh_tokens.<open_id>``)."""
        with self._lock:
            if open_id not in self._users:
                self._users[open_id] = TikTokTokenAuth(
                    self.client,
                    self.version,
                    self.settings.client_key,
                    self.secrets.require("tiktok.client_secret"),
                    self.secrets.require(f"tiktok.refresh_tokens.{open_id}"),
                )
            return self._users[open_id]

    def _call(
        self, ctx: FetchContext, method: str, path: str, entity: str, endpoint: str, fields: str, body: Any = None
    ) -> ApiResponse:
        return self.client.request(
            method,
            f"/{self.version}/{path}",
            entity=entity,
            endpoint=endpoint,
            account_id=ctx.account_id,
            auth=self.user_auth(ctx.account_id),
            params={"fields": fields},
            json_body=body,
            sink=ctx.responses,
        )

    def pages(self, ctx: FetchContext) -> Iterator[Page]:
        self._call(ctx, "GET", "user/info/", "user", "user_info", USER_FIELDS)
        yield Page("user")
        state = ctx.stream("video")
        cutoff = ctx.cutoff("video")
        cursor = saved_cursor(ctx, state.cursor)
        pager = ctx.pager("video")
        while True:
            body: dict[str, Any] = {"max_count": self.settings.page_size}
            if cursor is not None:
                body["cursor"] = cursor
            try:
                listing = self._call(ctx, "POST", "video/list/", "video", "video_list", LIST_FIELDS, body)
            except ApiError as exc:
                if cursor is not None and pager.pages == 0 and is_permanent(exc):  # the saved cursor was refused
                    ctx.warn("video", "cursor_reset", f"video: saved cursor rejected ({exc}); paging from the newest")
                    cursor = None
                    continue
                raise
            data = json_object(listing).get("data") or {}
            videos = [v for v in data.get("videos", []) if isinstance(v, dict)]
            if videos:
                ids = [str(v["id"]) for v in videos]
                self._call(
                    ctx, "POST", "video/query/", "video", "video_query", METRIC_FIELDS, {"filters": {"video_ids": ids}}
                )
            times = [int(v["create_time"]) for v in videos if "create_time" in v]
            reached = cutoff is not None and any(t < cutoff for t in times)
            done = not data.get("has_more") or reached or not videos
            next_cursor = data.get("cursor")
            stop = pager.stop_reason(None if done else str(next_cursor))
            done = done or stop == "repeated_cursor"
            yield Page("video", cursor=None if done else str(next_cursor), done=done, max_ts=max(times, default=None))
            if done or stop:
                return
            cursor = int(next_cursor)

    def map_response(self, response: ApiResponse) -> list[Record]:
        data = (response.data or {}).get("data") or {}

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

        if response.entity == "user":
            user = data["user"]
            return [record("user", str(user["open_id"]), user)]
        if response.entity == "video":
            return [record("video", str(v["id"]), v) for v in data.get("videos", []) if isinstance(v, dict)]
        return []

    def close(self) -> None:
        self.client.close()
