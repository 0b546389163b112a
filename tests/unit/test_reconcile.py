"""Which Kafka messages bronze must hold: those up to its last committed offsets; later ones are pending."""

from __future__ import annotations

from dip.reconcile import split_at_consumed


def test_messages_after_the_consumed_offset_are_pending() -> None:
    watermarks = {("raw.ig", 0): (0, 10), ("raw.ig", 1): (5, 9), ("preds", 0): (0, 22)}
    consumed = {("raw.ig", 0): 10, ("raw.ig", 1): 7, ("preds", 0): 21}
    assert split_at_consumed(watermarks, consumed) == ({"raw.ig": 12, "preds": 21}, {"raw.ig": 2, "preds": 1})


def test_a_partition_bronze_never_read_is_all_pending() -> None:
    watermarks = {("raw.ig", 0): (0, 4), ("raw.tt", 0): (3, 8)}
    assert split_at_consumed(watermarks, {("raw.ig", 0): 4}) == ({"raw.ig": 4, "raw.tt": 0}, {"raw.ig": 0, "raw.tt": 5})


def test_offsets_outside_the_watermarks_are_clamped() -> None:
    # retention deleted messages below a consumed offset; a stale checkpoint beyond a recreated topic's end
    watermarks = {("raw.ig", 0): (6, 10), ("raw.tt", 0): (0, 3)}
    consumed = {("raw.ig", 0): 2, ("raw.tt", 0): 50}
    assert split_at_consumed(watermarks, consumed) == ({"raw.ig": 0, "raw.tt": 3}, {"raw.ig": 4, "raw.tt": 0})
