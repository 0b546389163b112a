"""DIP: data ingestion pipeline for social-media analytics."""

__version__ = "0.1.0"
