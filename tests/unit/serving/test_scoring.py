"""Sticky A/B assignment (hand-computed buckets) and model-per-variant resolution."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from dip.online.codec import FeatureValue
from dip.serving.scoring import ScoringModel, assign_variant, models_by_variant


class ConstantModel:
    def __init__(self, name: str, value: float) -> None:
        self.name, self.version, self.value = name, "1", value

    def predict(self, features: Mapping[str, FeatureValue]) -> float:
        return self.value


# bucket = int(first 16 hex digits of `printf %s exp:<id> | sha256sum`) mod total weight:
# exp:p1 -> 0x1110229e041a7186 % 100 = 22; exp:p2 -> 26; exp:p3 -> 63; exp:acct-9 -> 20
@pytest.mark.parametrize(
    ("entity_id", "variant"),
    [("p1", "control"), ("p2", "treatment"), ("p3", "treatment"), ("acct-9", "control")],
)
def test_assignment_follows_the_hash_bucket(entity_id: str, variant: str) -> None:
    assert assign_variant("exp", entity_id, [("control", 25), ("treatment", 75)]) == variant


def test_assignment_is_sticky_and_skips_zero_weights() -> None:
    variants = [("off", 0), ("a", 50), ("b", 50)]
    first = [assign_variant("exp", f"post-{i}", variants) for i in range(200)]
    assert first == [assign_variant("exp", f"post-{i}", variants) for i in range(200)]
    assert "off" not in first


def test_split_follows_weights() -> None:
    chosen = [assign_variant("exp", f"post-{i}", [("a", 90), ("b", 10)]) for i in range(10_000)]
    assert 8_800 <= chosen.count("a") <= 9_200


def test_all_zero_weights_are_rejected() -> None:
    with pytest.raises(ValueError, match="sum to more than 0"):
        assign_variant("exp", "p1", [("a", 0)])


def test_models_by_variant() -> None:
    champion, challenger = ConstantModel("m", 1.0), ConstantModel("m", 2.0)
    assert isinstance(champion, ScoringModel)
    assert models_by_variant(None, ["a", "b"]) == {}
    assert models_by_variant(champion, ["a", "b"]) == {"a": champion, "b": champion}
    assert models_by_variant({"a": champion, "z": challenger}, ["a", "b"]) == {"a": champion}
