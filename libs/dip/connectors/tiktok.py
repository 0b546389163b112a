"""TikTok API v2 source: user info and videos (video/list for the listing, video/query for metrics)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from types import MappingProxyType
from typing import Any

import httpx
from pydantic import SecretStr

from dip.config.models import TikTokConnectorConfig
from dip.connectors.api_source import ApiSource, Listing, TokenAuth, api_error, newest_first
from dip.connectors.base import ApiResponse, FetchContext, Page, Record, json_object
from dip.connectors.errors import ApiError, ConfigurationError, ConnectorError, RetryableError
from dip.connectors.http import ApiClient

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
    return api_error(
        message,
        status,
        code,
        headers,
        rate_limited=code == "rate_limit_exceeded",
        token_expired=code in TOKEN_ERRORS,
        transient=code == "internal_error",
    )


class TikTokTokenAuth(TokenAuth):
    """Bearer token from ``POST /v2/oauth/token/`` (client_credentials or refresh_token grant), renewed on expiry."""

    def __init__(
        self,
        client: ApiClient,
        version: str,
        client_key: str,
        client_secret: SecretStr,
        refresh_token: SecretStr | None = None,
    ) -> None:
        super().__init__(client, version)
        self._client_key, self._client_secret, self._refresh_token = client_key, client_secret, refresh_token
        self._expires_at = 0.0

    def refresh(self) -> None:
        with self._lock:
            form = {"client_key": self._client_key, "client_secret": self._client_secret.get_secret_value()}
            if self._refresh_token is None:
                form["grant_type"] = "client_credentials"
            else:
                form |= {"grant_type": "refresh_token", "refresh_token": self._refresh_token.get_secret_value()}
            answer = self._fetch_token("POST", "oauth/token/", form=form)
            self._expires_at = time.monotonic() + float(answer.get("expires_in", 0))
            new_refresh = answer.get("refresh_token")
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


def saved_cursor(ctx: FetchContext, value: str | None) -> str | None:
    """The saved video/list cursor (epoch milliseconds); an unreadable one is dropped with a warning."""
    if not value:
        return None
    try:
        int(value)
        return value
    except ValueError:
        ctx.warn("video", "cursor_reset", f"video: saved cursor {value[:40]!r} is not a number; paging from the newest")
        return None


class TikTokSource(ApiSource):
    """API v2: ``user`` and ``video`` entities per authorised user (open id)."""

    name = "tiktok"
    entities = MappingProxyType({"user": 1, "video": 1})
    classify = staticmethod(classify_tiktok_error)
    settings: TikTokConnectorConfig

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """As :class:`ApiSource`; plus each user's bearer token, made on first use."""
        super().__init__(*args, **kwargs)
        self._users: dict[str, TikTokTokenAuth] = {}
        self._lock = threading.Lock()

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
        auth = self.user_auth(ctx.account_id)
        return self.request(
            ctx, method, path, entity=entity, endpoint=endpoint, auth=auth, params={"fields": fields}, json_body=body
        )

    def pages(self, ctx: FetchContext) -> Iterator[Page]:
        self._call(ctx, "GET", "user/info/", "user", "user_info", USER_FIELDS)
        yield Page("user")

        def fetch(cursor: str | None) -> Listing:
            body: dict[str, Any] = {"max_count": self.settings.page_size}
            if cursor is not None:
                body["cursor"] = int(cursor)
            listing = self._call(ctx, "POST", "video/list/", "video", "video_list", LIST_FIELDS, body)
            data = json_object(listing).get("data") or {}
            videos = [v for v in data.get("videos", []) if isinstance(v, dict)]
            if videos:
                ids = [str(v["id"]) for v in videos]
                self._call(
                    ctx, "POST", "video/query/", "video", "video_query", METRIC_FIELDS, {"filters": {"video_ids": ids}}
                )
            times = [int(v["create_time"]) for v in videos if "create_time" in v]
            return Listing(times, bool(videos), str(data.get("cursor")) if data.get("has_more") else None)

        yield from newest_first(ctx, "video", saved_cursor(ctx, ctx.stream("video").cursor), fetch)

    def map_response(self, response: ApiResponse) -> list[Record]:
        data = (response.data or {}).get("data") or {}
        if response.entity == "user":
            user = data["user"]
            return [self.record(response, "user", str(user["open_id"]), user)]
        if response.entity == "video":
            videos = [v for v in data.get("videos", []) if isinstance(v, dict)]
            return [self.record(response, "video", str(v["id"]), v) for v in videos]
        return []
