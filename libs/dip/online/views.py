"""Feature views from configuration, as plain picklable :class:`ViewSpec` objects."""

from __future__ import annotations

from dip.config.models import OnlineConfig
from dip.online.codec import ViewSpec


def view_specs(online: OnlineConfig) -> dict[str, ViewSpec]:
    """Every configured view by name, in config order."""
    return {
        name: ViewSpec(name=name, entity=view.entity, features=dict(view.features), ttl_seconds=view.ttl_seconds)
        for name, view in online.views.items()
    }
