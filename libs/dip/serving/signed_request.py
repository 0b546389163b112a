"""Meta's ``signed_request`` (deauthorize and data deletion callbacks): ``<signature>.<payload>``, both base64url
without padding, the signature being HMAC-SHA256 of the payload's base64url text keyed with the app secret."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any


class SignedRequestError(ValueError):
    """The signed_request is malformed, not HMAC-SHA256, or not signed with this app's secret."""


def _b64url(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as exc:
        raise SignedRequestError("signed_request is not base64url") from exc


def sign(payload: dict[str, Any], app_secret: str) -> str:
    """A signed_request as Meta builds it (tests, and a local stand-in for Meta's callback)."""
    body = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    mac = hmac.new(app_secret.encode(), body.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode() + "." + body


def verify(signed_request: str, app_secret: str) -> dict[str, Any]:
    """The payload once its signature is checked (constant-time) against ``app_secret``."""
    signature, sep, body = signed_request.partition(".")
    if not sep or not signature or not body:
        raise SignedRequestError("signed_request must be <signature>.<payload>")
    expected = hmac.new(app_secret.encode(), body.encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(_b64url(signature), expected):
        raise SignedRequestError("signed_request signature does not match the app secret")
    try:
        payload = json.loads(_b64url(body))
    except ValueError as exc:
        raise SignedRequestError("signed_request payload is not JSON") from exc
    if not isinstance(payload, dict) or str(payload.get("algorithm", "")).upper() != "HMAC-SHA256":
        raise SignedRequestError("signed_request algorithm must be HMAC-SHA256")
    if not payload.get("user_id"):
        raise SignedRequestError("signed_request payload has no user_id")
    return payload
