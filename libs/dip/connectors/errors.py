"""Connector errors, split by what the caller should do: retry, wait, refresh the token, or give up."""

from __future__ import annotations

from dip.io.secrets import ConfigurationError  # raised by the secrets layer; re-exported for connectors

__all__ = [
    "ApiError",
    "AuthExpired",
    "ConfigurationError",
    "ConnectorError",
    "MalformedResponse",
    "RateLimited",
    "RetryableError",
    "UnexpectedResponse",
]


class ConnectorError(Exception):
    """Base class; messages never contain secrets (URLs are redacted before they get here)."""


class ApiError(ConnectorError):
    """The platform answered with an error that retrying will not fix (bad request, permissions...)."""

    def __init__(self, message: str, *, status: int | None = None, code: str | int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code


class RetryableError(ApiError):
    """5xx, timeouts, connection errors: retry with exponential backoff and jitter."""


class RateLimited(RetryableError):
    """HTTP 429 / rate-limit error codes: wait ``retry_after`` seconds (when the server says) and retry."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        status: int | None = None,
        code: str | int | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code)
        self.retry_after = retry_after


class MalformedResponse(RetryableError):
    """The body is not the JSON the endpoint promises; the raw body goes to the DLQ and the page is fetched again."""


class AuthExpired(ApiError):
    """The token is invalid or expired: refresh it and retry once."""


class UnexpectedResponse(ApiError):
    """Valid JSON of the wrong shape (e.g. a list where the API documents an object): retrying will not help."""


def is_permanent(exc: BaseException) -> bool:
    """An API error that neither waiting, retrying nor a new token will fix (permissions, unavailable data...)."""
    return isinstance(exc, ApiError) and not isinstance(exc, (RetryableError, AuthExpired))
