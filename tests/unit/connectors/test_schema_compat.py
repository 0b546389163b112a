"""The schema registry's validation and the backward-compatibility checker behind `dip schemas check`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dip.schemas import SchemaRegistry, SchemaViolation, UnknownSchemaVersion, breaking_changes, check_registry

ROOT = Path(__file__).resolve().parents[3]
V1 = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "n": {"type": "integer"},
        "tags": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
    },
    "required": ["id"],
}


def with_props(**changes: dict) -> dict:
    schema = json.loads(json.dumps(V1))
    schema["properties"].update(changes)
    return schema


def test_added_optional_field_and_widened_type_are_compatible() -> None:
    assert breaking_changes(V1, with_props(caption={"type": "string"})) == []
    assert breaking_changes(V1, with_props(n={"type": ["integer", "null"]})) == []


def test_removed_retyped_newly_required_and_closed_are_breaking() -> None:
    removed = json.loads(json.dumps(V1))
    del removed["properties"]["n"]
    assert breaking_changes(V1, removed) == ["/n: removed"]
    assert breaking_changes(V1, with_props(n={"type": "string"})) == ["/n: type changed from ['integer'] to ['string']"]
    required = with_props(caption={"type": "string"}) | {"required": ["id", "caption"]}
    assert breaking_changes(V1, required) == ["/caption: newly required"]
    assert breaking_changes(V1, V1 | {"additionalProperties": False}) == ["<root>: additionalProperties closed"]
    items = {"type": "object", "properties": {"name": {"type": "integer"}}}
    nested = with_props(tags={"type": "array", "items": items})
    assert breaking_changes(V1, nested) == ["/tags[]/name: type changed from ['string'] to ['integer']"]


def test_check_registry_reports_incompatible_pairs(tmp_path: Path) -> None:
    folder = tmp_path / "instagram" / "media"
    folder.mkdir(parents=True)
    (folder / "v1.json").write_text(json.dumps(V1))
    (folder / "v2.json").write_text(json.dumps(with_props(caption={"type": "string"})))
    assert check_registry(SchemaRegistry(tmp_path)) == {}
    (folder / "v3.json").write_text(json.dumps(with_props(id={"type": "integer"})))
    assert check_registry(SchemaRegistry(tmp_path)) == {
        "instagram/media v2 -> v3": ["/id: type changed from ['string'] to ['integer']", "/caption: removed"]
    }


def test_project_schemas_validate_payloads() -> None:
    registry = SchemaRegistry(ROOT / "conf" / "schemas")
    assert check_registry(registry) == {}
    registry.validate(
        "instagram", "media", 1, {"id": "1", "media_type": "IMAGE", "timestamp": "2026-11-20T10:00:00+0000"}
    )
    with pytest.raises(SchemaViolation, match="like_count: -1 is less than the minimum of 0"):
        registry.validate(
            "instagram",
            "media",
            1,
            {"id": "1", "media_type": "IMAGE", "like_count": -1, "timestamp": "2026-11-20T10:00:00+0000"},
        )
    with pytest.raises(SchemaViolation, match="'create_time' is a required property"):
        registry.validate("tiktok", "video", 1, {"id": "7"})
    with pytest.raises(UnknownSchemaVersion):
        registry.validate("tiktok", "video", 9, {"id": "7"})
