"""Spark session construction from configuration."""

from dip.spark.session import build_session, session_conf

__all__ = ["build_session", "session_conf"]
