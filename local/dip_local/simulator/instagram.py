"""Instagram Graph API shapes: account node, media edge, media insights, follower demographics, token exchange."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from dip_local.simulator.data import Account, Post
from dip_local.simulator.routing import route, router_for
from dip_local.simulator.state import SimState

MEDIA_INSIGHTS = {
    "reach": ("Accounts reached", "The number of unique accounts that have seen this post at least once."),
    "saved": ("Saved", "The number of saves of your post."),
    "views": ("Views", "The number of times your post was played or displayed."),
    "shares": ("Shares", "The number of shares of your post."),
    "total_interactions": ("Interactions", "Likes, saves, comments and shares, minus the ones undone."),
}


def graph_error(
    status: int, code: int, message: str, kind: str = "OAuthException", subcode: int | None = None
) -> Response:
    """A Graph API error in its documented shape."""
    error: dict[str, Any] = {"message": message, "type": kind, "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + secrets.token_hex(10)
    return JSONResponse({"error": error}, status_code=status)


def _usage_headers(state: SimState, account_id: str | None) -> dict[str, str]:
    pct = state.usage_pct()
    headers = {"X-App-Usage": json.dumps({"call_count": pct, "total_cputime": pct // 2, "total_time": pct // 2})}
    if account_id:
        usage = {
            "type": "instagram",
            "call_count": pct,
            "total_cputime": pct // 2,
            "total_time": pct // 2,
            "estimated_time_to_regain_access": 0,
        }
        headers["X-Business-Use-Case-Usage"] = json.dumps({account_id: [usage]})
    return headers


def _json(state: SimState, body: Any, account_id: str | None = None) -> Response:
    return JSONResponse(body, headers=_usage_headers(state, account_id))


def _permalink(media_id: str) -> str:
    code = base64.urlsafe_b64encode(hashlib.sha1(media_id.encode()).digest()).decode()[:11]
    return f"https://www.instagram.com/p/{code}/"


def _timestamp(post: Post) -> str:
    return post.created.strftime("%Y-%m-%dT%H:%M:%S+0000")


def media_object(post: Post, account: Account, fields: list[str], tick: int) -> dict[str, Any]:
    """One media object with only the requested fields; ``like_count`` absent when likes are hidden."""
    values: dict[str, Any] = {
        "id": post.id,
        "caption": post.caption,
        "media_type": post.media_type,
        "media_product_type": post.product_type,
        "permalink": _permalink(post.id),
        "timestamp": _timestamp(post),
        "comments_count": post.metric("comments", tick),
        "username": account.name,
    }
    if not post.hide_likes:
        values["like_count"] = post.metric("likes", tick)
    return {f: values[f] for f in fields if f in values}


def _media_insight_value(post: Post, metric: str, tick: int) -> int:
    if metric == "total_interactions":
        return sum(post.metric(m, tick) for m in ("likes", "comments", "saved", "shares"))
    return post.metric(metric, tick)


def _cursor(offset: int) -> str:
    return base64.b64encode(f"offset:{offset}".encode()).decode()


def _offset(cursor: str | None) -> int:
    if not cursor:
        return 0
    try:
        return int(base64.b64decode(cursor).decode().split(":", 1)[1])
    except (ValueError, IndexError):
        return -1


def _not_found(node_id: str, prefix: str = "") -> Response:
    """Graph's answer for a node id that names nothing (``prefix``: the media edge says more)."""
    message = f"{prefix}Object with ID '{node_id}' does not exist"
    return graph_error(400, 100, message, kind="GraphMethodException", subcode=33)


def _expired() -> Response:
    return graph_error(400, 190, "Error validating access token: Session has expired.", subcode=463)


def _fields(request: Request, default: str) -> list[str]:
    return [f for f in request.query_params.get("fields", default).split(",") if f]


class GraphApi:
    """The Graph API's handlers over one simulator state, each marked with its route."""

    def __init__(self, state: SimState) -> None:
        self.state = state

    def authorised(self, request: Request) -> bool:
        return self.state.check("instagram", request.query_params.get("access_token")) is not None

    @route("GET", "/{version}/oauth/access_token")
    async def exchange_token(self, request: Request) -> Response:
        """Long-lived token for the configured app and user token."""
        state, creds, q = self.state, self.state.credentials, request.query_params
        if q.get("grant_type") != "fb_exchange_token":
            return graph_error(400, 100, "Unsupported grant_type", kind="OAuthException")
        if q.get("client_id") != creds.ig_app_id or q.get("client_secret") != creds.ig_app_secret:
            return graph_error(400, 1, "Error validating client secret.", kind="OAuthException")
        if q.get("fb_exchange_token") != creds.ig_user_token:
            return graph_error(400, 190, "Invalid OAuth access token - Cannot parse access token")
        token, ttl = state.issue("instagram", None, "IGLL")
        state.count("oauth")
        return _json(state, {"access_token": token, "token_type": "bearer", "expires_in": ttl})

    @route("GET", "/{version}/{node_id}/media")
    async def media_edge(self, version: str, node_id: str, request: Request) -> Response:
        """An account's media, newest first, paged by ``after`` cursors (broken accounts answer a list)."""
        state = self.state
        if not self.authorised(request):
            return _expired()
        account = state.dataset.instagram.get(node_id)
        if account is None:
            return _not_found(node_id, "Unsupported get request. ")
        if node_id in state.faults.broken_accounts:
            return JSONResponse([{"unexpected": "a list where the Graph API answers an object"}])
        q = request.query_params
        fields = _fields(request, "id,timestamp")
        limit = min(int(q.get("limit", "25")), 100)
        start = _offset(q.get("after"))
        if start < 0:
            return graph_error(400, 100, "Invalid cursor", kind="OAuthException")
        listed = state.visible(account.posts)
        posts = listed[start : start + limit]
        body: dict[str, Any] = {"data": [media_object(p, account, fields, state.post_tick(p)) for p in posts]}
        paging: dict[str, Any] = {"cursors": {"before": _cursor(start), "after": _cursor(start + len(posts))}}
        if start + limit < len(listed):
            params = {k: v for k, v in q.items() if k != "after"} | {"after": _cursor(start + len(posts))}
            paging["next"] = f"{str(request.base_url).rstrip('/')}/{version}/{node_id}/media?{urlencode(params)}"
        body["paging"] = paging
        state.count("ig_media")
        if state.take_malformed():
            text = json.dumps(body)
            return Response(
                text[: len(text) // 2], media_type="application/json", headers=_usage_headers(state, node_id)
            )
        return _json(state, body, node_id)

    @route("GET", "/{version}/{node_id}/insights")
    async def insights(self, version: str, node_id: str, request: Request) -> Response:
        """A media's lifetime insights, or an account's follower demographics."""
        state = self.state
        if not self.authorised(request):
            return _expired()
        q = request.query_params
        metrics = [m for m in q.get("metric", "").split(",") if m]
        account = state.dataset.instagram.get(node_id)
        if account is not None:
            return self.demographics(node_id, account, q.get("breakdown", ""), q.get("metric_type"), metrics)
        post = state.dataset.ig_media(node_id)
        if post is None or not state.visible([post]):
            return _not_found(node_id)
        every = state.faults.insights_unavailable_every
        if every and int(node_id) % every == 0:
            return graph_error(
                400, 10, "(#10) Not enough viewers for the media to show insights", kind="OAuthException"
            )
        unknown = [m for m in metrics if m not in MEDIA_INSIGHTS]
        if unknown or not metrics:
            return graph_error(
                400,
                100,
                f"(#100) metric[0] must be one of the following values: {', '.join(MEDIA_INSIGHTS)}",
                kind="OAuthException",
            )
        data = [
            {
                "name": m,
                "period": "lifetime",
                "values": [{"value": _media_insight_value(post, m, state.post_tick(post))}],
                "title": MEDIA_INSIGHTS[m][0],
                "description": MEDIA_INSIGHTS[m][1],
                "id": f"{node_id}/insights/{m}/lifetime",
            }
            for m in metrics
        ]
        state.count("ig_media_insights")
        return _json(state, {"data": data}, post.account_id)

    def demographics(
        self, node_id: str, account: Account, breakdown: str, metric_type: str | None, metrics: list[str]
    ) -> Response:
        """An account's follower demographics by one breakdown (they drift a little with every tick)."""
        state = self.state
        if metrics != ["follower_demographics"] or metric_type != "total_value" or breakdown not in account.audience:
            return graph_error(
                400,
                100,
                "(#100) follower_demographics needs metric_type=total_value and one breakdown of age, gender, country",
                kind="OAuthException",
            )
        values = account.audience[breakdown]
        results = [
            {"dimension_values": [k], "value": v + state.account_tick() * (i % 3)}
            for i, (k, v) in enumerate(values.items())
        ]
        body = {
            "data": [
                {
                    "name": "follower_demographics",
                    "period": "lifetime",
                    "title": "Follower demographics",
                    "description": "The demographic characteristics of followers, including countries, cities and "
                    "gender "
                    "distribution.",
                    "total_value": {"breakdowns": [{"dimension_keys": [breakdown], "results": results}]},
                    "id": f"{node_id}/insights/follower_demographics/lifetime",
                }
            ]
        }
        state.count("ig_audience")
        return _json(state, body, node_id)

    @route("GET", "/{version}/{node_id}")  # after the longer paths: the router matches in this order
    async def node(self, node_id: str, request: Request) -> Response:
        """An account node with the requested fields (``id`` always)."""
        state = self.state
        if not self.authorised(request):
            return _expired()
        account = state.dataset.instagram.get(node_id)
        if account is None:
            return _not_found(node_id)
        values = {
            "username": account.name,
            "followers_count": account.followers(state.account_tick()),
            "follows_count": account.following,
            "media_count": len(state.visible(account.posts)),
            "id": account.id,
        }
        body = {f: values[f] for f in _fields(request, "id") if f in values}
        body["id"] = account.id
        state.count("ig_account")
        return _json(state, body, node_id)


def build_router(state: SimState) -> APIRouter:
    """Routes under ``/{version}/...`` for any Graph API version string."""
    return router_for(GraphApi(state))
