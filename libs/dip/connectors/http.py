"""HTTP client shared by a source's workers: budget, retries (tenacity), error mapping, redaction, metrics."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
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

        def attempt() -> ApiResponse:
            nonlocal refreshed
            try:
                with span("dip.connector.request", **self._span_attributes(method, entity, endpoint)) as traced:
                    response = self._once(
                        method,
                        path,
                        entity=entity,
                        endpoint=endpoint,
                        account_id=account_id,
                        auth=auth,
                        params=params,
                        json_body=json_body,
                        form=form,
                        context=context or {},
                        sink=sink if store else None,
                    )
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

    def _once(
        self,
        method: str,
        path: str,
        *,
        entity: str,
        endpoint: str,
        account_id: str,
        auth: Auth | None,
        params: dict[str, Any] | None,
        json_body: Any,
        form: dict[str, str] | None,
        context: dict[str, str],
        sink: list[ApiResponse] | None,
    ) -> ApiResponse:
        query = dict(params or {})
        headers: dict[str, str] = {}
        request_id = uuid.uuid4().hex
        headers["X-Request-Id"] = request_id
        if auth is not None:
            auth.apply(query, headers)
        secrets = auth.secret_values() if auth is not None else []
        remember_secrets(secrets)
        self.budget.acquire()
        started = time.monotonic()
        url_for_humans = redact_url(f"{self.http.base_url}{path}")
        try:
            response = self.http.request(method, path, params=query, headers=headers, json=json_body, data=form)
        except httpx.TimeoutException as exc:
            self.metrics.requests.labels(self.source, endpoint, "timeout").inc()
            raise RetryableError(f"{type(exc).__name__} calling {method} {url_for_humans}") from None
        except httpx.TransportError as exc:
            self.metrics.requests.labels(self.source, endpoint, "connection_error").inc()
            raise RetryableError(f"{type(exc).__name__} calling {method} {url_for_humans}") from None
        fetched_at = utc_now_iso(self.clock)
        self.metrics.latency.labels(self.source, endpoint).observe(time.monotonic() - started)
        self.metrics.requests.labels(self.source, endpoint, str(response.status_code)).inc()
        if self.usage_headers:
            delay = usage_delay(
                response.headers, self.settings.throttle_threshold_pct, self.settings.throttle_max_delay_s
            )
            if delay > 0:
                self.metrics.throttle_seconds.labels(self.source).inc(delay)
                self.budget.pause(delay)
        body = redact_body(response.content, secrets)
        url = redact_text(str(response.request.url), secrets)
        try:
            data = json.loads(body)
        except ValueError as exc:
            if response.status_code >= 500:
                raise RetryableError(
                    f"HTTP {response.status_code} from {method} {url}", status=response.status_code
                ) from None
            malformed = ApiResponse(
                self.source,
                entity,
                endpoint,
                account_id,
                response.status_code,
                body,
                url,
                request_id,
                fetched_at,
                dict(context),
                None,
                f"invalid JSON: {exc}",
            )
            if sink is not None:
                sink.append(malformed)
            raise MalformedResponse(
                f"invalid JSON body from {method} {url}: {exc}", status=response.status_code
            ) from None
        error = self.classify(response.status_code, data, response.headers)
        if error is not None:
            if isinstance(error, RateLimited):
                self.metrics.rate_limited.labels(self.source, endpoint).inc()
                if error.retry_after is not None:
                    self.budget.pause(min(error.retry_after, self.settings.retry_after_max_s))
            raise error
        result = ApiResponse(
            self.source,
            entity,
            endpoint,
            account_id,
            response.status_code,
            body,
            url,
            request_id,
            fetched_at,
            dict(context),
            data,
        )
        if sink is not None:
            sink.append(result)
        return result
