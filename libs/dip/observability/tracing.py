"""OpenTelemetry traces of connector requests and job stages, exported over OTLP/HTTP when configured.

Off by default: until :func:`configure_tracing` finds an endpoint (``observability.otlp_endpoint`` or
``OTEL_EXPORTER_OTLP_ENDPOINT``), :func:`span` returns a shared no-op context manager and the
OpenTelemetry SDK is never imported. The SDK's own provider is kept here instead of the global one,
so configuring twice (tests, a second job in one process) is safe.
"""

from __future__ import annotations

import contextvars
import functools
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

    from dip.config import Config

T = TypeVar("T")
TRACER_NAME = "dip"
ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")


class _NoopSpan:
    """Stands in for a span when tracing is off: accepts and drops everything."""

    def set_attribute(self, key: str, value: Any) -> None:
        pass

    def record_exception(self, exception: BaseException) -> None:
        pass

    def __enter__(self) -> _NoopSpan:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


_NOOP = _NoopSpan()


@dataclass
class _State:
    provider: TracerProvider | None = None
    tracer: Any = None


_STATE = _State()


def otlp_endpoint(config: Config | None, environ: Mapping[str, str] | None = None) -> str | None:
    """The configured OTLP endpoint: config first, then the standard OTel variables; None when off."""
    environ = os.environ if environ is None else environ
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if config is not None and config.observability.otlp_endpoint:
        return config.observability.otlp_endpoint
    return next((environ[v] for v in ENDPOINT_VARS if environ.get(v)), None)


def tracing_enabled() -> bool:
    """Whether spans are being recorded in this process."""
    return _STATE.tracer is not None


def configure_tracing(
    config: Config | None = None,
    *,
    exporter: SpanExporter | None = None,
    environ: Mapping[str, str] | None = None,
) -> bool:
    """Start recording spans if an endpoint is configured (or ``exporter`` is given); returns whether on.

    Idempotent: an already configured process keeps its provider. ``exporter`` (e.g. an in-memory one)
    is wired with a synchronous processor; OTLP uses a batching one, flushed at exit.
    """
    if _STATE.tracer is not None:
        return True
    environ = os.environ if environ is None else environ
    endpoint = otlp_endpoint(config, environ)
    if exporter is None and endpoint is None:
        return False
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor

    service = config.observability.service_name if config is not None else "dip"
    provider = TracerProvider(resource=Resource.create({"service.name": service}))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(config, environ)))
    _STATE.provider = provider
    _STATE.tracer = provider.get_tracer(TRACER_NAME)
    return True


def _otlp_exporter(config: Config | None, environ: Mapping[str, str]) -> SpanExporter:
    """OTLP/HTTP exporter; a config endpoint is a base URL like the standard variable (``/v1/traces`` added)."""
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    if config is not None and config.observability.otlp_endpoint:
        base = config.observability.otlp_endpoint.rstrip("/")
        return OTLPSpanExporter(endpoint=base if base.endswith("/v1/traces") else f"{base}/v1/traces")
    return OTLPSpanExporter()  # reads OTEL_EXPORTER_OTLP_[TRACES_]ENDPOINT, headers, timeout itself


def shutdown_tracing() -> None:
    """Flush and stop the provider (also done at interpreter exit); tracing is off afterwards."""
    provider, _STATE.provider, _STATE.tracer = _STATE.provider, None, None
    if provider is not None:
        provider.shutdown()


def in_current_context(fn: Callable[..., T]) -> Callable[..., T]:
    """``fn`` bound to the caller's context, so spans it opens in a worker thread join the caller's trace."""
    if _STATE.tracer is None:
        return fn
    return functools.partial(contextvars.copy_context().run, fn)


def _attribute(value: Any) -> Any:
    if isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, list | tuple) and all(isinstance(v, str | bool | int | float) for v in value):
        return list(value)
    return str(value)


def span(name: str, **attrs: Any) -> Any:
    """A context manager recording span ``name`` (child of the current one) with ``attrs``; None values dropped.

    Dotted attribute names go through a dict: ``span("x", **{"http.request.method": "GET"})``. The
    yielded object has ``set_attribute``; exceptions are recorded and mark the span as an error.
    """
    tracer = _STATE.tracer
    if tracer is None:
        return _NOOP
    attributes = {k: _attribute(v) for k, v in attrs.items() if v is not None}
    return tracer.start_as_current_span(name, attributes=attributes)
