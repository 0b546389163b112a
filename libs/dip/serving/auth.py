"""Who is calling and what they may do: hashed API keys or HS256 bearer JWTs, each carrying scopes.

Scopes: ``features:<view>`` (or ``features:*``) to read a view, ``score`` to call ``/v1/score``.
API keys live in config only as ``sha256(key)`` hex; the plain key is never stored or logged.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

import jwt

from dip.config.models import ServingConfig
from dip.serving.errors import ApiError

API_KEY_HEADER = "X-API-Key"
_CHALLENGE = {"WWW-Authenticate": 'Bearer, ApiKey header="X-API-Key"'}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller: a key name or JWT subject, and its scopes."""

    name: str
    method: Literal["api_key", "jwt"]
    scopes: frozenset[str]


def hash_api_key(key: str) -> str:
    """The sha256 hex digest stored in ``serving.api_keys.<name>.sha256``."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def has_scope(scopes: Iterable[str], required: str) -> bool:
    """True when ``required`` is granted exactly, or is a ``features:<view>`` covered by ``features:*``."""
    granted = set(scopes)
    return required in granted or (required.startswith("features:") and "features:*" in granted)


def parse_scope_claim(claim: object) -> frozenset[str]:
    """Scopes from a JWT ``scope`` claim: an RFC 8693 space-separated string or a list of strings."""
    if isinstance(claim, str):
        return frozenset(claim.split())
    if isinstance(claim, list) and all(isinstance(s, str) for s in claim):
        return frozenset(claim)
    return frozenset()


def _unauthorized(detail: str) -> ApiError:
    return ApiError(401, "unauthorized", detail, headers=_CHALLENGE)


class Authenticator:
    """Resolves request credentials to a :class:`Principal` (401 on failure) and checks scopes (403)."""

    def __init__(self, serving: ServingConfig) -> None:
        self._keys = {key.sha256: (name, frozenset(key.scopes)) for name, key in serving.api_keys.items()}
        self._jwt = serving.jwt

    def authenticate(self, api_key: str | None, bearer: str | None) -> Principal:
        """The caller behind an ``X-API-Key`` value or a bearer token; the API key wins when both are sent."""
        if api_key:
            found = self._keys.get(hash_api_key(api_key))
            if found is None:
                raise _unauthorized("invalid API key")
            return Principal(name=found[0], method="api_key", scopes=found[1])
        if bearer:
            return self._decode_jwt(bearer)
        raise _unauthorized(f"missing credentials: send an {API_KEY_HEADER} header or Authorization: Bearer <jwt>")

    def _decode_jwt(self, token: str) -> Principal:
        if not self._jwt.enabled or self._jwt.secret is None:
            raise _unauthorized("bearer tokens are not accepted by this service; use an API key")
        try:
            claims = jwt.decode(
                token,
                self._jwt.secret.get_secret_value(),
                algorithms=[self._jwt.algorithm],
                audience=self._jwt.audience,
                issuer=self._jwt.issuer,
                leeway=self._jwt.leeway_s,
                options={"require": ["exp", "sub", "iss", "aud"]},
            )
        except jwt.PyJWTError as exc:
            raise _unauthorized(f"invalid bearer token: {exc}") from None
        return Principal(name=str(claims["sub"]), method="jwt", scopes=parse_scope_claim(claims.get("scope")))

    @staticmethod
    def require(principal: Principal, scope: str) -> None:
        """Raise 403 unless ``principal`` holds ``scope``."""
        if not has_scope(principal.scopes, scope):
            raise ApiError(403, "forbidden", f"credential {principal.name!r} lacks scope {scope!r}")
