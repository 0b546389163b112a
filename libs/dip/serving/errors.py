"""One JSON error shape for every failure: ``{"error": <code>, "detail": <message or validation list>}``."""

from __future__ import annotations

import json
import logging
from typing import Any

import redis
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from dip.online import RowError

log = logging.getLogger(__name__)


def _json_safe(value: Any, limit: int = 200) -> Any:
    """A rejected input as it can be echoed: JSON without NaN/Infinity and short (``1e400``, ``10**400``)."""
    try:
        text = json.dumps(value, allow_nan=False)
    except (TypeError, ValueError):
        text = None
    if text is not None and len(text) <= limit:
        return value
    shown = repr(value)
    return shown if len(shown) <= limit else f"{shown[:limit]}... ({len(shown)} characters)"


class ErrorBody(BaseModel):
    """The body of every 4xx/5xx answer."""

    error: str
    detail: str | list[dict[str, Any]]


class ApiError(Exception):
    """An expected failure with its HTTP status, a stable error code and a human-readable detail."""

    def __init__(self, status: int, error: str, detail: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.headers = headers


HTTP_ERROR_CODES = {400: "bad_request", 404: "not_found", 405: "method_not_allowed"}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting :class:`ErrorBody` for ``statuses``."""
    return {status: {"model": ErrorBody} for status in statuses}


def install_error_handlers(app: FastAPI) -> None:
    """Map ApiError, request validation, Redis outages, corrupt records and the framework's own HTTP errors
    (an unparsable body is 400, an unknown route 404) to :class:`ErrorBody` answers."""

    def body(status: int, error: str, detail: Any, headers: dict[str, str] | None = None) -> JSONResponse:
        return JSONResponse({"error": error, "detail": detail}, status_code=status, headers=headers)

    async def on_api_error(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ApiError)
        return body(exc.status, exc.error, exc.detail, exc.headers)

    async def on_validation(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        errors = [
            {k: _json_safe(v) if k == "input" else v for k, v in err.items() if k != "url"} for err in exc.errors()
        ]
        return body(422, "invalid_request", jsonable_encoder(errors))

    async def on_unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s", type(exc).__name__, exc_info=exc)
        return body(500, "internal_error", f"unexpected {type(exc).__name__}; the server log has the details")

    async def on_redis(_: Request, exc: Exception) -> JSONResponse:
        return body(503, "store_unavailable", f"online store unreachable ({type(exc).__name__})")

    async def on_corrupt(_: Request, exc: Exception) -> JSONResponse:
        return body(500, "corrupt_record", str(exc))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        code = HTTP_ERROR_CODES.get(exc.status_code, f"http_{exc.status_code}")
        return body(exc.status_code, code, str(exc.detail), dict(exc.headers) if exc.headers else None)

    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(redis.RedisError, on_redis)
    app.add_exception_handler(RowError, on_corrupt)
    app.add_exception_handler(Exception, on_unexpected)  # never Starlette's plain-text 500
