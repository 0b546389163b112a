"""Deletion on request: ``POST /v1/admin/forget`` (an operator with the admin scope, or Meta's data deletion /
deauthorize callback authenticated by its ``signed_request``) and the status URL the callback hands to the user.

The request is recorded at once (the account is on the forgotten list from then on: ingest skips it, the streams drop
its rows); the deletion itself is carried out by ``dip forget --pending`` (the nightly ``forget_pending`` task).
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import parse_qs

from fastapi import APIRouter, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import ValidationError

from dip.io.secrets import secrets_provider
from dip.lifecycle.requests import record_request, request_status
from dip.serving.errors import ApiError, error_responses
from dip.serving.schemas import ForgetAccepted, ForgetRequestBody, ForgetStatus
from dip.serving.signed_request import SignedRequestError, verify
from dip.serving.state import State, api_key_scheme, bearer_scheme

router = APIRouter()
META_CALLBACK = "meta-data-deletion-callback"
FORM = "application/x-www-form-urlencoded"


def _meta_account(state: State, body: bytes) -> str:
    """The Instagram account of a verified signed_request (403 for a bad or unverifiable one, 400 without one)."""
    values = parse_qs(body.decode("utf-8", "replace")).get("signed_request", [])
    if not values:
        raise ApiError(400, "bad_request", "form field signed_request is missing")
    secret = secrets_provider(state.config).get("instagram.app_secret")
    if secret is None or not secret.get_secret_value():  # nothing to verify with: refused, never trusted
        raise ApiError(403, "forbidden", "cannot verify signed_request: connectors.instagram.app_secret is not set")
    try:
        payload = verify(values[0], secret.get_secret_value())
    except SignedRequestError as exc:
        raise ApiError(403, "forbidden", f"invalid signed_request: {exc}") from None
    return str(payload["user_id"])


@router.post(
    "/v1/admin/forget",
    tags=["admin"],
    responses=error_responses(400, 401, 403, 422),
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {"schema": ForgetRequestBody.model_json_schema()},
                FORM: {"schema": {"type": "object", "properties": {"signed_request": {"type": "string"}}}},
            }
        }
    },
)
async def forget_endpoint(
    request: Request,
    state: State,
    api_key: Annotated[str | None, Security(api_key_scheme)],
    bearer: Annotated[HTTPAuthorizationCredentials | None, Security(bearer_scheme)],
) -> ForgetAccepted:
    """Queue the deletion of an account's data; answers Meta's callback shape ``{url, confirmation_code}``.

    JSON ``{source, account_id, purge}`` needs the admin scope; a form with Meta's ``signed_request`` (verified with
    the Instagram app secret) forgets the Instagram account it names.
    """
    body = await request.body()
    if request.headers.get("content-type", "").split(";")[0].strip() == FORM:
        source, account, purge, who = "instagram", _meta_account(state, body), False, META_CALLBACK
    else:
        caller = state.authenticator.authenticate(api_key, bearer.credentials if bearer else None)
        state.authenticator.require(caller, state.config.serving.admin_scope)
        try:
            parsed = ForgetRequestBody.model_validate_json(body)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'body'}: {e['msg']}" for e in exc.errors())
            raise ApiError(422, "invalid_request", problems) from None
        source, account, purge, who = parsed.source, parsed.account_id, parsed.purge, caller.name
    recorded = await run_in_threadpool(record_request, state.config, source, account, who, purge)
    url = str(request.url_for("forget_status_endpoint", code=recorded.request_id))
    return ForgetAccepted(url=url, confirmation_code=recorded.request_id)


@router.get("/v1/admin/forget/{code}", tags=["admin"], responses=error_responses(404))
async def forget_status_endpoint(code: str, state: State) -> ForgetStatus:
    """Where a deletion request stands (``requested`` or ``completed``); nothing else about the account."""
    status = await run_in_threadpool(request_status, state.config, code)
    if status is None:
        raise ApiError(404, "not_found", "unknown confirmation code")
    return ForgetStatus(confirmation_code=code, status=status)  # type: ignore[arg-type]
