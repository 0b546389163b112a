"""Feature engineering: pure window transforms, the feature store (Delta or Hudi), online push, offline retrieval."""

from dip.features.accounts import account_features
from dip.features.posts import post_features
from dip.features.text import text_features

__all__ = ["account_features", "post_features", "text_features"]
