"""Platform connectors: pluggable sources (Instagram Graph API, TikTok API v2) feeding Kafka and the raw zone."""

from dip.connectors.base import ApiResponse, FetchContext, Page, Record, Source
from dip.connectors.sources import SourceRegistry, default_registry

__all__ = ["ApiResponse", "FetchContext", "Page", "Record", "Source", "SourceRegistry", "default_registry"]
