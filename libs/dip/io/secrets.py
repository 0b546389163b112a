"""Secrets provider interface: environment (default), HashiCorp Vault KV v2, AWS Secrets Manager.

Keys are dotted names such as ``instagram.access_token`` or ``tiktok.refresh_tokens.<open_id>``. Vault and
AWS hold one JSON object (flat dotted keys, or nested objects) at the configured path / secret id.
"""

from __future__ import annotations

import json
import threading
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any

from pydantic import SecretStr

from dip.config import Config


class ConfigurationError(Exception):
    """A source or client lacks a setting or a secret it needs (the message names it, never its value)."""


def _lookup(data: Any, key: str) -> Any:
    if isinstance(data, Mapping) and key in data:
        return data[key]
    node = data
    for part in key.split("."):
        if isinstance(node, Mapping) and part in node:
            node = node[part]
        elif isinstance(node, Mapping) and part.lower() in node:
            node = node[part.lower()]
        else:
            return None
    return node


class SecretsProvider(ABC):
    """Returns a secret as :class:`SecretStr` (never a plain string that could be logged by accident)."""

    @abstractmethod
    def get(self, key: str) -> SecretStr | None:
        """The secret ``key`` or None when it is not set."""

    def require(self, key: str) -> SecretStr:
        value = self.get(key)
        if value is None or not value.get_secret_value():
            raise ConfigurationError(f"missing secret {key}: {self.hint(key)}")
        from dip.io.redact import remember_secrets

        remember_secrets([value.get_secret_value()])  # never in a log line from here on
        return value

    def hint(self, key: str) -> str:
        return "set it in the configured secret store"


class EnvSecrets(SecretsProvider):
    """Secrets from the config's ``connectors.*`` secret fields, which the loader fills only from ``DIP__*`` env."""

    def __init__(self, config: Config) -> None:
        self._connectors = config.connectors.model_dump()

    def get(self, key: str) -> SecretStr | None:
        value = _lookup(self._connectors, key)
        if isinstance(value, SecretStr):
            return value
        return SecretStr(value) if isinstance(value, str) and value else None

    def hint(self, key: str) -> str:
        parts = key.split(".")
        if len(parts) > 2:
            return f'set DIP__CONNECTORS__{parts[0].upper()}__{parts[1].upper()}=\'{{"{parts[2]}": "..."}}\''
        return f"set DIP__CONNECTORS__{'__'.join(p.upper() for p in parts)}"


class _CachedJsonSecrets(SecretsProvider):
    def __init__(self) -> None:
        self._data: Mapping[str, Any] | None = None
        self._lock = threading.Lock()

    @abstractmethod
    def _load(self) -> Mapping[str, Any]: ...

    def get(self, key: str) -> SecretStr | None:
        with self._lock:
            if self._data is None:
                self._data = self._load()
        value = _lookup(self._data, key)
        return SecretStr(str(value)) if value not in (None, "") else None


class VaultSecrets(_CachedJsonSecrets):
    """HashiCorp Vault KV v2 through hvac: one secret at ``<mount>/<path>``."""

    def __init__(self, url: str, token: SecretStr, mount: str, path: str) -> None:
        super().__init__()
        self.url, self._token, self.mount, self.path = url, token, mount, path

    def _load(self) -> Mapping[str, Any]:
        import hvac

        client = hvac.Client(url=self.url, token=self._token.get_secret_value())
        answer = client.secrets.kv.v2.read_secret_version(
            path=self.path, mount_point=self.mount, raise_on_deleted_version=True
        )
        return answer["data"]["data"]

    def hint(self, key: str) -> str:
        return f"add {key!r} to Vault KV v2 {self.mount}/{self.path}"


def aws_secret_string(secret_id: str, region: str | None = None, endpoint_url: str | None = None) -> str:
    """The ``SecretString`` of an AWS Secrets Manager secret, through boto3 (its default chain when no region)."""
    import boto3

    client = boto3.client("secretsmanager", region_name=region, endpoint_url=endpoint_url)
    return client.get_secret_value(SecretId=secret_id)["SecretString"]


class AwsSecrets(_CachedJsonSecrets):
    """AWS Secrets Manager through boto3: one JSON ``SecretString`` under ``secret_id``."""

    def __init__(self, secret_id: str, region: str | None = None, endpoint_url: str | None = None) -> None:
        super().__init__()
        self.secret_id, self.region, self.endpoint_url = secret_id, region, endpoint_url

    def _load(self) -> Mapping[str, Any]:
        return json.loads(aws_secret_string(self.secret_id, self.region, self.endpoint_url))

    def hint(self, key: str) -> str:
        return f"add {key!r} to the JSON of AWS secret {self.secret_id}"


def secrets_provider(config: Config) -> SecretsProvider:
    """The provider chosen by ``connectors.secrets.provider``."""
    s = config.connectors.secrets
    if s.provider == "vault":
        if not s.vault_url or s.vault_token is None:
            raise ConfigurationError(
                "secrets.provider=vault needs connectors.secrets.vault_url and DIP__CONNECTORS__SECRETS__VAULT_TOKEN"
            )
        return VaultSecrets(s.vault_url, s.vault_token, s.vault_mount, s.vault_path)
    if s.provider == "aws":
        return AwsSecrets(s.aws_secret_id, s.aws_region)
    return EnvSecrets(config)
