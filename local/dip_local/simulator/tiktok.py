"""TikTok API v2 shapes: OAuth token endpoint, user info, video list (cursor/has_more) and video query."""

from __future__ import annotations

import json
import secrets
from typing import Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from dip_local.simulator.data import Account, Post
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


def build_router(state: SimState) -> APIRouter:
    """Routes under ``/v2/``."""
    router = APIRouter()
    creds = state.credentials

    def user_of(request: Request) -> Account | None:
        auth = request.headers.get("authorization", "")
        token = state.check("tiktok", auth.removeprefix("Bearer ").strip() if auth.startswith("Bearer ") else None)
        if token is None or token.subject is None:
            return None
        return state.dataset.tiktok.get(token.subject)

    def unauthorised() -> Response:
        return tiktok_error(401, "access_token_invalid", "The access token is invalid or not found in the request.")

    @router.post("/v2/oauth/token/")
    async def oauth_token(request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs((await request.body()).decode()).items()}
        if form.get("client_key") != creds.tt_client_key or form.get("client_secret") != creds.tt_client_secret:
            return JSONResponse(
                {
                    "error": "invalid_client",
                    "error_description": "Client key or secret is invalid.",
                    "log_id": log_id(),
                },
                status_code=401,
            )
        grant = form.get("grant_type")
        state.count("oauth")
        if grant == "client_credentials":
            token, ttl = state.issue("tiktok", None, "clt.")
            return JSONResponse({"access_token": token, "expires_in": ttl, "token_type": "Bearer"})
        if grant == "refresh_token":
            refresh = str(form.get("refresh_token") or "")
            open_id = refresh.removeprefix(creds.tt_refresh_prefix)
            if not refresh.startswith(creds.tt_refresh_prefix) or open_id not in state.dataset.tiktok:
                return JSONResponse(
                    {"error": "invalid_grant", "error_description": "Refresh token is invalid.", "log_id": log_id()},
                    status_code=400,
                )
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
        return JSONResponse(
            {"error": "unsupported_grant_type", "error_description": f"grant_type {grant!r}", "log_id": log_id()},
            status_code=400,
        )

    @router.get("/v2/user/info/")
    async def user_info(request: Request) -> Response:
        account = user_of(request)
        if account is None:
            return unauthorised()
        fields = [f for f in request.query_params.get("fields", "open_id").split(",") if f]
        values = {
            "open_id": account.id,
            "union_id": "u" + account.id.lstrip("_0"),
            "display_name": account.name,
            "follower_count": account.followers(state.account_tick()),
            "following_count": account.following,
            "likes_count": sum(p.metric("likes", state.post_tick(p)) for p in state.visible(account.posts)),
            "video_count": len(state.visible(account.posts)),
        }
        state.count("tt_user")
        return _ok({"user": {f: values[f] for f in fields if f in values}})

    @router.post("/v2/video/list/")
    async def video_list(request: Request) -> Response:
        account = user_of(request)
        if account is None:
            return unauthorised()
        body = await request.json()
        max_count = int(body.get("max_count", MAX_COUNT))
        if not 1 <= max_count <= MAX_COUNT:
            return tiktok_error(400, "invalid_params", f"max_count must be between 1 and {MAX_COUNT}")
        fields = [f for f in request.query_params.get("fields", "id").split(",") if f]
        cursor = body.get("cursor")
        posts = [
            p for p in state.visible(account.posts) if cursor is None or int(p.created.timestamp()) * 1000 < int(cursor)
        ]
        page = posts[:max_count]
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

    @router.post("/v2/video/query/")
    async def video_query(request: Request) -> Response:
        account = user_of(request)
        if account is None:
            return unauthorised()
        body = await request.json()
        ids = list((body.get("filters") or {}).get("video_ids") or [])
        if not 1 <= len(ids) <= MAX_COUNT:
            return tiktok_error(400, "invalid_params", f"filters.video_ids must hold 1 to {MAX_COUNT} ids")
        fields = [f for f in request.query_params.get("fields", "id").split(",") if f]
        by_id = {p.id: p for p in state.visible(account.posts)}
        videos = [video_object(by_id[i], account, fields, state.post_tick(by_id[i])) for i in ids if i in by_id]
        state.count("tt_video_query")
        return _ok({"videos": videos})

    return router
