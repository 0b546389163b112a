"""Versioned JSON Schemas of API payloads (``conf/schemas/<source>/<entity>/v<N>.json``) and their compatibility."""

from dip.schemas.compat import breaking_changes, check_registry
from dip.schemas.registry import SchemaRegistry, SchemaViolation, UnknownSchemaVersion, schemas_dir

__all__ = [
    "SchemaRegistry",
    "SchemaViolation",
    "UnknownSchemaVersion",
    "breaking_changes",
    "check_registry",
    "schemas_dir",
]
