"""Backward compatibility between consecutive schema versions: consumers of v(N-1) data must read vN data.

Allowed: new optional properties, widened types, removed ``required`` entries. Breaking: a removed property,
a property whose type set lost a type, a newly required property, a newly closed object
(``additionalProperties: false``), the same rules applied recursively to nested objects and array items.
"""

from __future__ import annotations

import itertools
from typing import Any

from dip.schemas.registry import SchemaRegistry


def _types(schema: dict[str, Any]) -> set[str]:
    t = schema.get("type")
    if t is None:
        return set()
    types = {t} if isinstance(t, str) else set(t)
    if "number" in types:
        types.add("integer")
    return types


def breaking_changes(old: dict[str, Any], new: dict[str, Any], path: str = "") -> list[str]:
    """Human-readable reasons why ``new`` is not backward compatible with ``old`` (empty list: compatible)."""
    where = path or "<root>"
    problems: list[str] = []
    old_types, new_types = _types(old), _types(new)
    if old_types and new_types and not old_types <= new_types:
        problems.append(f"{where}: type changed from {sorted(old_types)} to {sorted(new_types)}")
    newly_required = sorted(set(new.get("required", [])) - set(old.get("required", [])))
    for name in newly_required:
        problems.append(f"{path}/{name}: newly required")
    if new.get("additionalProperties") is False and old.get("additionalProperties") is not False:
        problems.append(f"{where}: additionalProperties closed")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}/{name}: removed")
        else:
            problems += breaking_changes(old_prop, new_props[name], f"{path}/{name}")
    if isinstance(old.get("items"), dict) and isinstance(new.get("items"), dict):
        problems += breaking_changes(old["items"], new["items"], f"{path}[]")
    return problems


def check_registry(registry: SchemaRegistry) -> dict[str, list[str]]:
    """``{"<source>/<entity> v<N-1> -> v<N>": [problems]}`` for every incompatible consecutive pair."""
    failures: dict[str, list[str]] = {}
    for source, entity in sorted(set(registry.subjects())):
        versions = registry.versions(source, entity)
        for old, new in itertools.pairwise(versions):
            problems = breaking_changes(registry.schema(source, entity, old), registry.schema(source, entity, new))
            if problems:
                failures[f"{source}/{entity} v{old} -> v{new}"] = problems
    return failures
