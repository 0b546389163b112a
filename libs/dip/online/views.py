"""Feature views from configuration, as plain picklable :class:`ViewSpec` objects."""

from __future__ import annotations

from dip.config.models import OnlineConfig
from dip.online.codec import ViewSpec


def view_specs(online: OnlineConfig) -> dict[str, ViewSpec]:
    """Every configured view by name, in config order (nightly and live: the API serves both alike)."""
    project = online.feast_project if online.format == "feast" else None
    return {
        name: ViewSpec(name, view.entity, dict(view.features), view.ttl_seconds, feast_project=project)
        for name, view in online.views.items()
    }


def nightly_view_names(online: OnlineConfig) -> list[str]:
    """Views written by push-online from the feature table of the same name."""
    return [name for name, view in online.views.items() if not view.live]


def live_view_specs(online: OnlineConfig, entity: str) -> list[ViewSpec]:
    """The live views of ``entity`` (post or account), written by stream_live."""
    specs = view_specs(online)
    return [specs[name] for name, view in online.views.items() if view.live and view.entity == entity]
