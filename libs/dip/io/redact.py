"""Keep secrets out of logs, exceptions and stored bodies."""

from __future__ import annotations

import logging
import re
import threading
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


_known: set[str] = set()
_lock = threading.Lock()
_installed = False


def remember_secrets(values: Iterable[str]) -> None:
    """Secret values (tokens, client secrets) to redact from every log record from now on."""
    fresh = {v for v in values if v and len(v) >= 4} - _known
    if fresh:
        with _lock:
            _known.update(fresh)


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact the formatted message and the traceback text of ``record`` in place."""
    try:
        message = record.getMessage()
    except (TypeError, ValueError):  # a malformed %-format: leave it to the handler's own error path
        return record
    known = tuple(_known)
    redacted = redact_text(message, known)
    if redacted != message:
        record.msg, record.args = redacted, None
    if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
        record.exc_text = redact_text(logging.Formatter().formatException(record.exc_info), known)
    if record.stack_info:
        record.stack_info = redact_text(record.stack_info, known)
    return record


class RedactingFilter(logging.Filter):
    """A logging filter that redacts secrets in the formatted message and traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        redact_record(record)
        return True


def install_log_redaction() -> None:
    """Redact every log record of the process when it is created (idempotent): any logger, child loggers and
    third-party ones included, whatever handlers are attached later, tracebacks too."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: object, **kwargs: object) -> logging.LogRecord:
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
