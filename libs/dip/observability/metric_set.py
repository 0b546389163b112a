"""Prometheus metrics declared as a table of class attributes, created on a registry the caller owns.

A metric-defining class lists its metrics once, as data::

    class PushMetrics(MetricSet):
        rows = Metric(Counter, "dip_push_rows_total", "Rows pushed", ("view",))

and ``PushMetrics(registry).rows`` is the counter on that registry (a fresh one by default), so nothing is
registered at import time and two instances never clash.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Generic, TypeVar, overload

from prometheus_client import CollectorRegistry
from prometheus_client.metrics import MetricWrapperBase

M = TypeVar("M", bound=MetricWrapperBase)


class Metric(Generic[M]):
    """One metric of a :class:`MetricSet`: its kind (``Counter``, ``Gauge``, ``Histogram``), name, help and labels;
    ``options`` go to the constructor as they are (e.g. a histogram's ``buckets``)."""

    def __init__(self, kind: type[M], name: str, documentation: str, labels: Sequence[str], **options: Any) -> None:
        self.kind, self.name, self.documentation = kind, name, documentation
        self.labels, self.options = tuple(labels), options
        self.attr = name

    def __set_name__(self, owner: type, attr: str) -> None:
        self.attr = attr

    @overload
    def __get__(self, instance: None, owner: type) -> Metric[M]: ...

    @overload
    def __get__(self, instance: MetricSet, owner: type) -> M: ...

    def __get__(self, instance: MetricSet | None, owner: type) -> Metric[M] | M:
        if instance is None:
            return self
        raise AttributeError(f"{owner.__name__}.{self.attr}: MetricSet.__init__ was not called")

    def create(self, registry: CollectorRegistry) -> M:
        """The metric, registered on ``registry``."""
        return self.kind(self.name, self.documentation, self.labels, registry=registry, **self.options)


class MetricSet:
    """A group of :class:`Metric` class attributes; each instance creates them on its registry, in the order
    they are declared (base classes first), as instance attributes of the same names."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        for cls in reversed(type(self).__mro__):
            for attr, metric in vars(cls).items():
                if isinstance(metric, Metric):
                    self.__dict__[attr] = metric.create(self.registry)
