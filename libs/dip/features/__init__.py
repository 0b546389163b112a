"""Feature engineering: pure window transforms, the feature store (Delta or Hudi), online push, offline retrieval.

The Spark transforms are imported lazily so that :mod:`dip.features.caption` (plain Python, used by the
serving API) imports without pyspark.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_EXPORTS = {
    "account_features": "dip.features.accounts",
    "post_features": "dip.features.posts",
    "text_features": "dip.features.text",
}

__all__ = ["account_features", "post_features", "text_features"]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'dip.features' has no attribute {name!r}")
