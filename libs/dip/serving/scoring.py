"""Scoring: the model protocol the service calls and the sticky A/B variant assignment."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Protocol, runtime_checkable

from dip.online.codec import FeatureValue


@runtime_checkable
class ScoringModel(Protocol):
    """What ``/v1/score`` needs from a model: a name, a version and ``predict`` on one feature dict.

    A model may also have ``views``: the online views it reads when scoring a stored entity (besides
    ``serving.scoring.view``, e.g. ``post_live`` for live engagement); their features are merged in.
    """

    name: str
    version: str

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        """Predicted engagement for one entity."""
        ...


def assign_variant(experiment: str, entity_id: str, variants: Sequence[tuple[str, int]]) -> str:
    """Sticky variant: bucket = first 8 bytes of sha256("<experiment>:<entity_id>") mod total weight."""
    total = sum(weight for _, weight in variants)
    if total <= 0:
        raise ValueError("variant weights must sum to more than 0")
    digest = hashlib.sha256(f"{experiment}:{entity_id}".encode()).digest()
    bucket = int.from_bytes(digest[:8], "big") % total
    for name, weight in variants:
        if bucket < weight:
            return name
        bucket -= weight
    raise AssertionError("unreachable: bucket below total weight")


def models_by_variant(
    model: ScoringModel | Mapping[str, ScoringModel] | None, variants: Sequence[str]
) -> dict[str, ScoringModel]:
    """One model for every variant (a single model serves all), or per-variant models from a mapping."""
    if model is None:
        return {}
    if isinstance(model, Mapping):
        return {name: model[name] for name in variants if name in model}
    return dict.fromkeys(variants, model)


class ServedModels:
    """The model of each A/B variant; :meth:`replace` swaps in one model (the reloaded champion) for all."""

    def __init__(self, models: dict[str, ScoringModel], variants: Sequence[str]) -> None:
        self.by_variant = models
        self.variants = list(variants)

    def get(self, variant: str) -> ScoringModel | None:
        return self.by_variant.get(variant)

    def versions(self) -> str | None:
        """The distinct versions served, comma-separated (None when no model is loaded)."""
        return ",".join(sorted({m.version for m in self.by_variant.values()})) or None

    def replace(self, model: ScoringModel) -> str | None:
        """Serve ``model`` for every variant (one dict assignment: requests see old or new); the versions before."""
        previous = self.versions()
        self.by_variant = dict.fromkeys(self.variants, model)
        return previous
