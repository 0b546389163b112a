"""Progress of the live path per view, kept beside its data in Redis: ``dip:_live:<view>`` (a hash).

stream_live writes it after each micro-batch's writes; ``dip status`` and the demo read it. Fields:
``batch_id``, ``newest_event_ms`` (newest snapshot time of the batch), ``written_ms`` (when its
writes ended), ``lag_ms`` (the difference: API fetch -> Redis write of the freshest snapshot),
``written`` and ``skipped_stale``. No TTL: it describes the query, not an entity.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import redis

from dip.online.codec import KEY_PREFIX

_FIELDS = ("batch_id", "newest_event_ms", "written_ms", "lag_ms", "written", "skipped_stale")


def live_state_key(view: str) -> str:
    """``dip:_live:<view>``: cannot collide with a feature hash (view names never start with ``_``)."""
    return f"{KEY_PREFIX}:_live:{view}"


@dataclass(frozen=True)
class LiveState:
    """The last micro-batch stream_live applied to one view."""

    view: str
    batch_id: int
    newest_event_ms: int
    written_ms: int
    written: int
    skipped_stale: int

    @property
    def lag_s(self) -> float:
        """Seconds from the newest snapshot's fetch to the end of its Redis write."""
        return max(0, self.written_ms - self.newest_event_ms) / 1000.0


def record_live_state(client: redis.Redis, state: LiveState) -> None:
    """Replace ``dip:_live:<view>`` with ``state``."""
    values = {
        "batch_id": state.batch_id,
        "newest_event_ms": state.newest_event_ms,
        "written_ms": state.written_ms,
        "lag_ms": state.written_ms - state.newest_event_ms,
        "written": state.written,
        "skipped_stale": state.skipped_stale,
    }
    client.hset(live_state_key(state.view), mapping=values)


def read_live_states(client: redis.Redis, views: Sequence[str]) -> list[LiveState | None]:
    """The recorded state of each view (``None`` where stream_live has not written it yet)."""
    pipe = client.pipeline(transaction=False)
    for view in views:
        pipe.hmget(live_state_key(view), *_FIELDS)
    states: list[LiveState | None] = []
    for view, values in zip(views, pipe.execute(), strict=True):
        if any(v is None for v in values):
            states.append(None)
            continue
        batch_id, newest, written_ms, _lag, written, skipped = (int(v) for v in values)
        states.append(LiveState(view, batch_id, newest, written_ms, written, skipped))
    return states
