"""HTTP client shared by a source's workers: budget, retries (tenacity), error mapping, redaction, metrics."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, Protocol

import httpx
from tenacity import RetryCallState, Retrying, retry_if_exception_type, stop_after_attempt

from dip.config.models import ConnectorsConfig
from dip.connectors.base import ApiResponse
from dip.connectors.clock import Clock, iso_utc, utc_now
from dip.connectors.errors import AuthExpired, ConnectorError, MalformedResponse, RateLimited, RetryableError
from dip.connectors.metrics import ConnectorMetrics
from dip.connectors.throttle import RequestBudget, backoff_delay, usage_delay
from dip.io.redact import install_log_redaction, redact_text, redact_url, remember_secrets
from dip.observability.tracing import span

Classifier = Callable[[int, Any, httpx.Headers], ConnectorError | None]


class Auth(Protocol):
    """How a request is authenticated; ``refresh`` gets a new token after a 401/expired answer."""

    def apply(self, params: dict[str, Any], headers: dict[str, str]) -> None: ...

    def refresh(self) -> None: ...

    def secret_values(self) -> list[str]: ...


class _Reauthenticated(RetryableError):
    """Internal: the token was refreshed, retry at once."""


def utc_now_iso(clock: Clock = utc_now) -> str:
    """``2026-11-26T14:00:00.123456Z`` on ``clock`` (the real one by default)."""
    return iso_utc(clock())


def redact_body(body: bytes, secrets: list[str]) -> bytes:
    """Body with secret values (tokens in paging URLs) replaced; every other byte unchanged."""
    text = body.decode("utf-8", errors="surrogateescape")
    redacted = text
    for secret in secrets:
        if secret and len(secret) >= 4:
            redacted = redacted.replace(secret, "REDACTED")
    return body if redacted == text else redacted.encode("utf-8", errors="surrogateescape")


@dataclass(frozen=True)
class _Call:
    """One logical request, retried as a whole: what to send and how to label what comes back."""

    method: str
    path: str
    entity: str
    endpoint: str
    account_id: str
    auth: Auth | None
    params: dict[str, Any] | None
    json_body: Any
    form: dict[str, str] | None
    context: dict[str, str]


class ApiClient:
    """One per platform app; thread-safe (httpx.Client is), so all workers share its budget."""

    def __init__(
        self,
        source: str,
        base_url: str,
        settings: ConnectorsConfig,
        budget: RequestBudget,
        metrics: ConnectorMetrics,
        classify: Classifier,
        *,
        usage_headers: bool = False,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Clock = utc_now,
    ) -> None:
        install_log_redaction()
        self.clock = clock
        self.source = source
        self.settings = settings
        self.budget = budget
        self.metrics = metrics
        self.classify = classify
        self.usage_headers = usage_headers
        self._sleep = sleep
        self.http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=settings.timeout_s,
            transport=transport,
            headers={"User-Agent": "dip-connector/0.1"},
        )

    def close(self) -> None:
        self.http.close()

    def _wait(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Reauthenticated):
            return 0.0
        if isinstance(exc, RateLimited) and exc.retry_after is not None:
            return min(exc.retry_after, self.settings.retry_after_max_s)
        return backoff_delay(state.attempt_number, self.settings.backoff_initial_s, self.settings.backoff_max_s)

    def _span_attributes(self, method: str, entity: str, endpoint: str) -> dict[str, str]:
        """Attributes of a request's trace span (no URL: query strings may carry tokens)."""
        return {
            "dip.source": self.source,
            "dip.entity": entity,
            "dip.endpoint": endpoint,
            "http.request.method": method,
        }

    def request(
        self,
        method: str,
        path: str,
        *,
        entity: str,
        endpoint: str,
        account_id: str,
        auth: Auth | None = None,
        params: dict[str, Any] | None = None,
        json_body: Any = None,
        form: dict[str, str] | None = None,
        context: dict[str, str] | None = None,
        sink: list[ApiResponse] | None = None,
        store: bool = True,
    ) -> ApiResponse:
        """Send with retries; returns the parsed response, appended to ``sink`` when ``store``."""
        refreshed = False

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            reason = type(exc).__name__ if exc else "unknown"
            self.metrics.retries.labels(self.source, endpoint, reason).inc()

        call = _Call(method, path, entity, endpoint, account_id, auth, params, json_body, form, context or {})

        def attempt() -> ApiResponse:
            nonlocal refreshed
            try:
                with span("dip.connector.request", **self._span_attributes(method, entity, endpoint)) as traced:
                    response = self._once(call, sink if store else None)
                    traced.set_attribute("http.response.status_code", response.status)
                    return response
            except AuthExpired:
                if auth is None or refreshed:
                    raise
                refreshed = True
                auth.refresh()
                raise _Reauthenticated("token refreshed") from None

        retrying = Retrying(
            stop=stop_after_attempt(self.settings.max_retries + 1),
            wait=self._wait,
            retry=retry_if_exception_type(RetryableError),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )
        return retrying(attempt)

    def _once(self, call: _Call, sink: list[ApiResponse] | None) -> ApiResponse:
        """One attempt: send, throttle on usage headers, parse and classify; stored in ``sink`` unless an error."""
        query = dict(call.params or {})
        request_id = uuid.uuid4().hex
        headers = {"X-Request-Id": request_id}
        if call.auth is not None:
            call.auth.apply(query, headers)
        secrets = call.auth.secret_values() if call.auth is not None else []
        remember_secrets(secrets)
        response = self._send(call, query, headers)
        fetched_at = utc_now_iso(self.clock)
        self._throttle(response)
        body = redact_body(response.content, secrets)
        url = redact_text(str(response.request.url), secrets)
        status, context = response.status_code, dict(call.context)
        sent = ApiResponse(
            self.source, call.entity, call.endpoint, call.account_id, status, body, url, request_id, fetched_at, context
        )
        try:
            data = json.loads(body)
        except ValueError as exc:
            if response.status_code >= 500:
                raise RetryableError(
                    f"HTTP {response.status_code} from {call.method} {url}", status=response.status_code
                ) from None
            _store(replace(sent, error=f"invalid JSON: {exc}"), sink)
            raise MalformedResponse(
                f"invalid JSON body from {call.method} {url}: {exc}", status=response.status_code
            ) from None
        self._raise_for_error(call, response, data)
        return _store(replace(sent, data=data), sink)

    def _send(self, call: _Call, query: dict[str, Any], headers: dict[str, str]) -> httpx.Response:
        """The HTTP exchange within the budget, counted and timed; transport failures are retryable."""
        self.budget.acquire()
        started = time.monotonic()
        try:
            response = self.http.request(
                call.method, call.path, params=query, headers=headers, json=call.json_body, data=call.form
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            outcome = "timeout" if isinstance(exc, httpx.TimeoutException) else "connection_error"
            self.metrics.requests.labels(self.source, call.endpoint, outcome).inc()
            url_for_humans = redact_url(f"{self.http.base_url}{call.path}")
            raise RetryableError(f"{type(exc).__name__} calling {call.method} {url_for_humans}") from None
        self.metrics.latency.labels(self.source, call.endpoint).observe(time.monotonic() - started)
        self.metrics.requests.labels(self.source, call.endpoint, str(response.status_code)).inc()
        return response

    def _throttle(self, response: httpx.Response) -> None:
        """Slow the whole source down when the platform's usage headers say it nears its limit."""
        if not self.usage_headers:
            return
        delay = usage_delay(response.headers, self.settings.throttle_threshold_pct, self.settings.throttle_max_delay_s)
        if delay > 0:
            self.metrics.throttle_seconds.labels(self.source).inc(delay)
            self.budget.pause(delay)

    def _raise_for_error(self, call: _Call, response: httpx.Response, data: Any) -> None:
        """Raise the platform's error in this answer, if any; a rate limit also pauses the budget."""
        error = self.classify(response.status_code, data, response.headers)
        if error is None:
            return
        if isinstance(error, RateLimited):
            self.metrics.rate_limited.labels(self.source, call.endpoint).inc()
            if error.retry_after is not None:
                self.budget.pause(min(error.retry_after, self.settings.retry_after_max_s))
        raise error


def _store(answer: ApiResponse, sink: list[ApiResponse] | None) -> ApiResponse:
    if sink is not None:
        sink.append(answer)
    return answer
