"""Registered sources: ``dip ingest --source <name>|all`` runs any of them."""

from __future__ import annotations

from typing import Protocol

from dip.config import Config
from dip.connectors.base import Source
from dip.connectors.clock import Clock, utc_now
from dip.connectors.metrics import ConnectorMetrics
from dip.io.secrets import SecretsProvider


class SourceFactory(Protocol):
    """Makes a source (usually the :class:`Source` subclass itself); ``clock`` stamps what it fetches."""

    def __call__(
        self, config: Config, secrets: SecretsProvider, metrics: ConnectorMetrics, *, clock: Clock = ...
    ) -> Source: ...


class SourceRegistry:
    """Name -> source class; a new platform is one :class:`Source` subclass plus one ``register`` call."""

    def __init__(self) -> None:
        self._factories: dict[str, SourceFactory] = {}

    def register(self, name: str, factory: SourceFactory) -> None:
        if name in self._factories:
            raise ValueError(f"source {name!r} is already registered")
        self._factories[name] = factory

    def names(self) -> list[str]:
        return sorted(self._factories)

    def create(
        self,
        name: str,
        config: Config,
        secrets: SecretsProvider,
        metrics: ConnectorMetrics,
        *,
        clock: Clock = utc_now,
    ) -> Source:
        try:
            factory = self._factories[name]
        except KeyError:
            raise ValueError(f"unknown source {name!r}; registered: {', '.join(self.names())}") from None
        return factory(config, secrets, metrics, clock=clock)

    def resolve(self, selector: str) -> list[str]:
        """``all`` -> every registered name; otherwise a comma-separated list, each checked."""
        if selector == "all":
            return self.names()
        names = [s.strip() for s in selector.split(",") if s.strip()]
        for name in names:
            if name not in self._factories:
                raise ValueError(f"unknown source {name!r}; registered: {', '.join(self.names())}")
        return names


def default_registry() -> SourceRegistry:
    """The built-in sources: Instagram Graph API and TikTok API v2."""
    from dip.connectors.instagram import InstagramSource
    from dip.connectors.tiktok import TikTokSource

    registry = SourceRegistry()
    registry.register(InstagramSource.name, InstagramSource)
    registry.register(TikTokSource.name, TikTokSource)
    return registry
