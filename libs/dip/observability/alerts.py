"""Metrics of the seller alerts (``dip gold``): open alerts per rule and source of the last evaluated day."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from prometheus_client import CollectorRegistry, Gauge

from dip.observability.metric_set import Metric, MetricSet


class SellerAlertMetrics(MetricSet):
    """``dip_seller_alerts``: alerts the last gold run raised for its last day, by rule and source."""

    alerts = Metric(Gauge, "dip_seller_alerts", "Seller alerts raised for the last evaluated day", ("rule", "source"))

    def __init__(self, registry: CollectorRegistry | None = None, rules: Iterable[str] = ()) -> None:
        super().__init__(registry)
        self._rules = tuple(rules)

    def record(self, counts: Mapping[tuple[str, str], int], sources: Iterable[str]) -> None:
        """Set every (rule, source) gauge: the count raised, 0 where none was (so a resolved alert clears)."""
        for rule in self._rules:
            for source in sources:
                self.alerts.labels(rule, source).set(counts.get((rule, source), 0))
