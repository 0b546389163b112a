"""Keep secrets out of logs, exceptions and stored bodies."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

REDACTED = "REDACTED"
SECRET_PARAMS = (
    "access_token",
    "client_secret",
    "fb_exchange_token",
    "refresh_token",
    "appsecret_proof",
    "code",
    "input_token",
)
_PARAM_RE = re.compile(
    r"(?i)(?P<key>(?:^|[?&;\s\"'])(?:" + "|".join(SECRET_PARAMS) + r")(?:=|%3D))(?P<value>[^&\s\"'#]+)"
)
_BEARER_RE = re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+")


def redact_url(url: str) -> str:
    """``...?access_token=abc&fields=x`` -> ``...?access_token=REDACTED&fields=x`` (any secret query parameter)."""
    return _PARAM_RE.sub(lambda m: m.group("key") + REDACTED, url)


def redact_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Redact secret query parameters, bearer tokens and every known secret value in free text."""
    text = _BEARER_RE.sub(lambda m: m.group(1) + REDACTED, redact_url(text))
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets in the formatted message (httpx logs full request URLs)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = redact_text(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def install_log_redaction(logger_names: Iterable[str] = ("httpx", "httpcore", "dip")) -> None:
    """Attach :class:`RedactingFilter` to the named loggers once (idempotent)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(RedactingFilter())
