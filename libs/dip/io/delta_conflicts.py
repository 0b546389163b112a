"""Retrying a Delta write that lost an optimistic-concurrency conflict (e.g. to ``dip maintain``'s OPTIMIZE).

Only for idempotent writes: a MERGE, an append with a Delta txn id, an OPTIMIZE, a DELETE by condition.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
ATTEMPTS = 5


def retry_conflicts(action: Callable[[], T], attempts: int = ATTEMPTS, pause_s: float = 0.5) -> T:
    """``action()``, run again (up to ``attempts`` times) while it raises a Delta concurrent-modification error."""
    from delta.exceptions import DeltaConcurrentModificationException

    for attempt in range(1, attempts + 1):
        try:
            return action()
        except DeltaConcurrentModificationException:
            if attempt == attempts:
                raise
            time.sleep(pause_s * attempt)
    raise AssertionError("unreachable")
