"""TikTok API v2 shapes: OAuth token endpoint, user info, video list (cursor/has_more) and video query."""

from __future__ import annotations

import json
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from dip_local.simulator.data import Account, Post
from dip_local.simulator.routing import route, router_for
from dip_local.simulator.state import SimState

MAX_COUNT = 20


def log_id() -> str:
    return "202611" + secrets.token_hex(13).upper()


def tiktok_error(status: int, code: str, message: str) -> Response:
    """TikTok's ``{"data": {}, "error": {"code", "message", "log_id"}}`` error shape."""
    return JSONResponse(
        {"data": {}, "error": {"code": code, "message": message, "log_id": log_id()}}, status_code=status
    )


def _ok(data: Any) -> Response:
    return JSONResponse({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})


def video_object(post: Post, account: Account, fields: list[str], tick: int) -> dict[str, Any]:
    """One video with only the requested fields (``create_time`` in epoch seconds)."""
    handle = account.name.lower().replace(" ", "")
    values: dict[str, Any] = {
        "id": post.id,
        "create_time": int(post.created.timestamp()),
        "title": post.caption.split(" | ", 1)[0],
        "video_description": post.caption,
        "share_url": f"https://www.tiktok.com/@{handle}/video/{post.id}",
        "duration": post.duration,
        "view_count": post.metric("views", tick),
        "like_count": post.metric("likes", tick),
        "comment_count": post.metric("comments", tick),
        "share_count": post.metric("shares", tick),
    }
    return {f: values[f] for f in fields if f in values}


def _oauth_error(status: int, error: str, description: str) -> Response:
    """The OAuth endpoint's own error shape (not the ``data``/``error`` envelope of the other endpoints)."""
    return JSONResponse({"error": error, "error_description": description, "log_id": log_id()}, status_code=status)


def _fields(request: Request) -> list[str]:
    return [f for f in request.query_params.get("fields", "id").split(",") if f]


UserHandler = Callable[["TikTokApi", Request, Account], Awaitable[Response]]


def _for_user(handler: UserHandler) -> Callable[[TikTokApi, Request], Awaitable[Response]]:
    """``handler`` called with the account of the request's bearer token; 401 in TikTok's shape without one.

    The endpoint FastAPI sees takes only the request (no ``functools.wraps``: FastAPI would read the
    wrapped signature and ask for ``account`` as a query parameter).
    """

    async def endpoint(self: TikTokApi, request: Request) -> Response:
        account = self.user_of(request)
        if account is None:
            return tiktok_error(401, "access_token_invalid", "The access token is invalid or not found in the request.")
        return await handler(self, request, account)

    endpoint.__name__ = endpoint.__qualname__ = handler.__name__
    endpoint.__doc__ = handler.__doc__
    return endpoint


class TikTokApi:
    """TikTok's handlers over one simulator state, each marked with its route."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    def user_of(self, request: Request) -> Account | None:
        """The account whose user token the request bears (None: no token, a client token or an unknown one)."""
        auth = request.headers.get("authorization", "")
        token = self.state.check("tiktok", auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None)
        if token is None or token.subject is None:
            return None
        return self.state.dataset.tiktok.get(token.subject)

    @route("POST", "/v2/oauth/token/")
    async def oauth_token(self, request: Request) -> Response:
        """Client-credentials and refresh-token grants for the configured client."""
        state, creds = self.state, self.state.credentials
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("client_key") != creds.tt_client_key or form.get("client_secret") != creds.tt_client_secret:
            return _oauth_error(401, "invalid_client", "Client key or secret is invalid.")
        grant = form.get("grant_type")
        state.count("oauth")
        if grant == "client_credentials":
            token, ttl = state.issue("tiktok", None, "clt.")
            return JSONResponse({"access_token": token, "expires_in": ttl, "token_type": "Bearer"})
        if grant != "refresh_token":
            return _oauth_error(400, "unsupported_grant_type", f"grant_type {grant!r}")
        refresh = str(form.get("refresh_token") or "")
        open_id = refresh.removeprefix(creds.tt_refresh_prefix)
        if not refresh.startswith(creds.tt_refresh_prefix) or open_id not in state.dataset.tiktok:
            return _oauth_error(400, "invalid_grant", "Refresh token is invalid.")
        token, ttl = state.issue("tiktok", open_id, "act.")
        return JSONResponse(
            {
                "access_token": token,
                "expires_in": ttl,
                "open_id": open_id,
                "refresh_expires_in": 31_536_000,
                "refresh_token": refresh,
                "scope": "user.info.basic,user.info.stats,video.list",
                "token_type": "Bearer",
            }
        )

    @route("GET", "/v2/user/info/")
    @_for_user
    async def user_info(self, request: Request, account: Account) -> Response:
        """The user's profile and stats, requested fields only."""
        state = self.state
        values = {
            "open_id": account.id,
            "union_id": "u" + account.id.lstrip("_0"),
            "display_name": account.name,
            "follower_count": account.followers(state.account_tick()),
            "following_count": account.following,
            "likes_count": sum(p.metric("likes", state.post_tick(p)) for p in state.visible(account.posts)),
            "video_count": len(state.visible(account.posts)),
        }
        fields = [f for f in request.query_params.get("fields", "open_id").split(",") if f]
        state.count("tt_user")
        return _ok({"user": {f: values[f] for f in fields if f in values}})

    @route("POST", "/v2/video/list/")
    @_for_user
    async def video_list(self, request: Request, account: Account) -> Response:
        """The user's videos, newest first, paged by a ``create_time`` cursor in milliseconds."""
        state = self.state
        body = await request.json()
        max_count = int(body.get("max_count", MAX_COUNT))
        if not 1 <= max_count <= MAX_COUNT:
            return tiktok_error(400, "invalid_params", f"max_count must be between 1 and {MAX_COUNT}")
        cursor = body.get("cursor")
        posts = [
            p for p in state.visible(account.posts) if cursor is None or int(p.created.timestamp()) * 1000 < int(cursor)
        ]
        page = posts[:max_count]
        fields = _fields(request)
        data = {
            "videos": [video_object(p, account, fields, state.post_tick(p)) for p in page],
            "cursor": int(page[-1].created.timestamp()) * 1000 if page else int(cursor or 0),
            "has_more": len(posts) > len(page),
        }
        state.count("tt_video_list")
        if state.take_malformed():
            text = json.dumps({"data": data, "error": {"code": "ok", "message": "", "log_id": log_id()}})
            return Response(text[: len(text) // 2], media_type="application/json")
        return _ok(data)

    @route("POST", "/v2/video/query/")
    @_for_user
    async def video_query(self, request: Request, account: Account) -> Response:
        """The user's videos with the given ids (unknown ids left out)."""
        body = await request.json()
        ids = list((body.get("filters") or {}).get("video_ids") or [])
        if not 1 <= len(ids) <= MAX_COUNT:
            return tiktok_error(400, "invalid_params", f"filters.video_ids must hold 1 to {MAX_COUNT} ids")
        by_id = {p.id: p for p in self.state.visible(account.posts)}
        fields = _fields(request)
        videos = [video_object(by_id[i], account, fields, self.state.post_tick(by_id[i])) for i in ids if i in by_id]
        self.state.count("tt_video_query")
        return _ok({"videos": videos})


def build_router(state: SimState) -> APIRouter:
    """Routes under ``/v2/``."""
    return router_for(TikTokApi(state))
