"""Load and merge configuration files and environment overrides into a typed :class:`Config`."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import SecretStr, ValidationError

from dip.config.models import Config, secret_paths

ENV_PREFIX = "DIP__"
ENV_SELECTOR = "DIP_ENV"
HOME_VAR = "DIP_HOME"
DEFAULT_ENV = "local"


class ConfigError(ValueError):
    """Configuration is missing, malformed, names an unknown key or lacks a required secret."""


def project_root(environ: Mapping[str, str] | None = None) -> Path:
    """The directory holding ``conf/``: ``$DIP_HOME`` or the nearest parent of the cwd with ``conf/base.yaml``."""
    environ = os.environ if environ is None else environ
    if environ.get(HOME_VAR):
        return Path(environ[HOME_VAR]).resolve()
    here = Path.cwd().resolve()
    for candidate in (here, *here.parents):
        if (candidate / "conf" / "base.yaml").is_file():
            return candidate
    raise ConfigError(f"cannot find conf/base.yaml above {here}; set {HOME_VAR} to the DIP project folder")


def deep_merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """Recursively merge ``override`` into a copy of ``base`` (mappings merge, everything else replaces)."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


def env_overrides(environ: Mapping[str, str]) -> dict[str, Any]:
    """Nested overrides from ``DIP__SECTION__KEY=value`` variables (double underscore = nesting)."""
    overrides: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith(ENV_PREFIX):
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__")]
        if not all(parts):
            raise ConfigError(f"malformed override variable {name}: empty key segment")
        value: Any = yaml.safe_load(raw) if raw.strip()[:1] in ("[", "{") else raw
        node = overrides
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ConfigError(f"override {name} conflicts with another override of {'.'.join(parts)}")
        node[parts[-1]] = value
    return overrides


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: top level must be a mapping")
    return data


def _flatten(data: Mapping[str, Any], prefix: str = "") -> set[str]:
    keys: set[str] = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        keys.add(path)
        if isinstance(value, Mapping):
            keys |= _flatten(value, path + ".")
    return keys


def _resolve_paths(data: dict[str, Any], root: Path) -> dict[str, Any]:
    """Make local folders absolute against the project root; a scheme-less lake root becomes ``file://``."""
    data = dict(data)
    state_dir = Path(data.get("state_dir", ".dip"))
    data["state_dir"] = str(state_dir if state_dir.is_absolute() else (root / state_dir).resolve())
    lake = dict(data.get("lake") or {})
    lake_root = lake.get("root")
    if isinstance(lake_root, str) and "://" not in lake_root:
        path = Path(lake_root)
        lake["root"] = (path if path.is_absolute() else (root / path).resolve()).as_uri()
        data["lake"] = lake
    jars = dict(data.get("jars") or {})
    for key in ("pom", "maven_settings", "dir"):
        if isinstance(jars.get(key), str) and not Path(jars[key]).is_absolute():
            jars[key] = str((root / jars[key]).resolve())
    data["jars"] = jars
    relative_dirs = (
        ("connectors", "schemas_dir"),
        ("connectors", "state_dir"),
        ("quality", "expectations_dir"),
        ("metrics", "textfile_dir"),
    )
    for section, key in relative_dirs:
        block = dict(data.get(section) or {})
        value = block.get(key)
        if isinstance(value, str) and "://" not in value and not Path(value).is_absolute():
            block[key] = str((root / value).resolve())
            data[section] = block
    return data


def _format_validation(exc: ValidationError, sources: Mapping[str, str]) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        origin = sources.get(key)
        where = f" (from {origin})" if origin else ""
        if err["type"] == "extra_forbidden":
            lines.append(f"unknown key {key}{where}")
        else:
            value = err.get("input")
            scalar = isinstance(value, str | int | float | bool)
            shown = f" (got {value!r})" if scalar and key not in secret_paths() else ""
            message = err["msg"].removeprefix("Value error, ")
            lines.append(f"{key}: {message}{shown}{where}")
    return "invalid configuration:\n  " + "\n  ".join(lines)


def load_config(
    env: str | None = None,
    *,
    conf_dir: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Config:
    """Resolve ``base.yaml`` < ``<env>.yaml`` < ``DIP__*`` variables into a validated :class:`Config`."""
    environ = os.environ if environ is None else environ
    root = conf_dir.resolve().parent if conf_dir else project_root(environ)
    conf_dir = conf_dir or root / "conf"
    env = env or environ.get(ENV_SELECTOR) or DEFAULT_ENV
    env_file = conf_dir / f"{env}.yaml"
    if not env_file.is_file():
        known = sorted(p.stem for p in conf_dir.glob("*.yaml") if p.stem != "base")
        raise ConfigError(f"unknown environment {env!r}: {env_file} not found (known: {', '.join(known)})")
    base = _read_yaml(conf_dir / "base.yaml")
    env_data = _read_yaml(env_file)
    secrets = secret_paths()
    for path, data in ((conf_dir / "base.yaml", base), (env_file, env_data)):
        leaked = sorted(_flatten(data) & secrets)
        if leaked:
            raise ConfigError(f"{path}: secret key {leaked[0]} must not be in a config file; set it in the environment")
    overrides = env_overrides(environ)
    sources = {key: ENV_PREFIX + key.upper().replace(".", "__") for key in _flatten(overrides)}
    merged = deep_merge(deep_merge(base, env_data), overrides)
    merged["env"] = env
    try:
        return Config.model_validate(_resolve_paths(merged, root))
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, sources)) from None


def masked_dict(config: Config) -> dict[str, Any]:
    """The config as plain data with every secret replaced by ``'********'`` (or ``None`` when unset)."""

    def mask(value: Any) -> Any:
        if isinstance(value, SecretStr):
            return "********"
        if isinstance(value, dict):
            return {k: mask(v) for k, v in value.items()}
        if isinstance(value, list):
            return [mask(v) for v in value]
        return value

    return mask(config.model_dump(mode="python"))
