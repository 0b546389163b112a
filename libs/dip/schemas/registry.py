"""Load and validate against the versioned JSON Schemas of each source/entity payload."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from dip.config import Config, project_root

_VERSION_RE = re.compile(r"^v(\d+)\.json$")


class UnknownSchemaVersion(LookupError):
    """No schema for this source/entity/version."""


class SchemaViolation(ValueError):
    """A payload does not match its schema."""


def schemas_dir(config: Config) -> Path:
    """``connectors.schemas_dir``, relative paths resolved against the project folder."""
    path = Path(config.connectors.schemas_dir)
    return path if path.is_absolute() else project_root() / path


class SchemaRegistry:
    """Schemas on disk, loaded lazily and cached; thread-safe."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._validators: dict[tuple[str, str, int], Draft202012Validator] = {}
        self._lock = threading.Lock()

    def versions(self, source: str, entity: str) -> list[int]:
        folder = self.root / source / entity
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for p in folder.iterdir() if (m := _VERSION_RE.match(p.name)))

    def subjects(self) -> list[tuple[str, str]]:
        """Every (source, entity) with at least one version."""
        return sorted((p.parent.parent.name, p.parent.name) for p in self.root.glob("*/*/v*.json"))

    def schema(self, source: str, entity: str, version: int) -> dict[str, Any]:
        path = self.root / source / entity / f"v{version}.json"
        if not path.is_file():
            raise UnknownSchemaVersion(f"no schema {source}/{entity} v{version} in {self.root}")
        return json.loads(path.read_text(encoding="utf-8"))

    def validator(self, source: str, entity: str, version: int) -> Draft202012Validator:
        key = (source, entity, version)
        with self._lock:
            if key not in self._validators:
                schema = self.schema(source, entity, version)
                Draft202012Validator.check_schema(schema)
                self._validators[key] = Draft202012Validator(schema)
            return self._validators[key]

    def validate(self, source: str, entity: str, version: int, payload: Any) -> None:
        """Raise :class:`SchemaViolation` listing every error (path: message), or UnknownSchemaVersion."""
        errors = sorted(self.validator(source, entity, version).iter_errors(payload), key=lambda e: list(e.path))
        if errors:
            details = "; ".join(f"{'/'.join(str(p) for p in e.path) or '<root>'}: {e.message}" for e in errors[:5])
            raise SchemaViolation(f"{source}/{entity} v{version}: {details}")
