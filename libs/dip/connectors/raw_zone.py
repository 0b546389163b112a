"""Raw zone: every API response body, gzip-compressed, immutable, on the local filesystem or S3.

Layout: ``<lake.root>/raw/source=<s>/entity=<e>/date=<yyyy-mm-dd>/<run_id>-<seq>.json.gz`` holding the body
bytes exactly as received (secret values in paging URLs replaced by ``REDACTED``), next to
``<run_id>-<seq>.meta.json`` (request id, fetch time, account, redacted URL, page) so a day can be replayed.
"""

from __future__ import annotations

import gzip
import json
import os
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse
from urllib.request import url2pathname

from dip.config import Config
from dip.connectors.base import ApiResponse


class ObjectStore(ABC):
    """Write-once object storage."""

    @abstractmethod
    def put_new(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key``; raise FileExistsError if it exists (never overwrite)."""

    @abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` at ``key``, atomically replacing what is there (mutable state, not the raw zone)."""

    @abstractmethod
    def get(self, key: str) -> bytes:
        """The bytes at ``key``; FileNotFoundError when there are none."""

    @abstractmethod
    def list(self, prefix: str) -> list[str]:
        """Keys under ``prefix``, sorted."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove ``key`` if present: only retention (archive, expiry) and ``dip forget`` remove raw objects."""


class LocalStore(ObjectStore):
    """Files under a folder; temp file + hard link makes "create if absent" atomic."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _synced_temp(self, target: Path, data: bytes) -> str:
        """``data`` written and fsynced to a temp file next to ``target``; the caller links or renames it."""
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        return tmp

    def put_new(self, key: str, data: bytes) -> None:
        tmp = self._synced_temp(self.root / key, data)
        try:
            os.link(tmp, self.root / key)  # fails with FileExistsError instead of replacing
        finally:
            os.unlink(tmp)

    def put(self, key: str, data: bytes) -> None:
        tmp = self._synced_temp(self.root / key, data)
        try:
            os.replace(tmp, self.root / key)
        except BaseException:
            os.unlink(tmp)
            raise

    def get(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def delete(self, key: str) -> None:
        (self.root / key).unlink(missing_ok=True)

    def list(self, prefix: str) -> list[str]:
        base = self.root / prefix
        if not base.exists():
            return []
        return sorted(
            str(p.relative_to(self.root)) for p in base.rglob("*") if p.is_file() and not p.name.startswith(".tmp-")
        )


class S3Store(ObjectStore):
    """An S3 bucket/prefix through boto3; conditional put (``If-None-Match: *``) keeps objects immutable."""

    def __init__(self, bucket: str, prefix: str, endpoint_url: str | None = None, client: Any = None) -> None:
        import boto3

        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.client = client or boto3.client("s3", endpoint_url=endpoint_url)

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def put_new(self, key: str, data: bytes) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("PreconditionFailed", "412", "ConditionalRequestConflict"):
                raise FileExistsError(f"s3://{self.bucket}/{self._key(key)} exists") from None
            raise

    def put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)  # a PUT replaces atomically

    def get(self, key: str) -> bytes:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"s3://{self.bucket}/{self._key(key)}") from None
            raise

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def list(self, prefix: str) -> list[str]:
        keys: list[str] = []
        strip = len(self.prefix) + 1 if self.prefix else 0
        for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self._key(prefix)):
            keys += [obj["Key"][strip:] for obj in page.get("Contents", [])]
        return sorted(keys)


def store_at(location: str, s3_endpoint_url: str | None = None) -> ObjectStore:
    """The store for a ``file://``, ``s3://``/``s3a://`` URI or a plain local path."""
    parsed = urlparse(location)
    if parsed.scheme == "":
        return LocalStore(Path(location))
    if parsed.scheme == "file":
        return LocalStore(Path(url2pathname(parsed.path)))
    if parsed.scheme in ("s3", "s3a"):
        return S3Store(parsed.netloc, parsed.path, s3_endpoint_url)
    raise ValueError(f"the raw zone and ingest state support file:// and s3:// locations, not {location!r}")


def object_store(config: Config) -> ObjectStore:
    """The store for ``lake.root``."""
    return store_at(config.lake.root, config.connectors.s3_endpoint_url)


@dataclass(frozen=True)
class StoredResponse:
    """A response read back from the raw zone."""

    key: str
    meta: dict[str, Any]
    body: bytes


RAW_ROOT = "raw"
ARCHIVE_ROOT = "archive/raw"  # where local retention moves expired raw objects (same layout, still replayable)


class RawZone:
    """Writes and reads response bodies under ``raw/`` (or, ``root`` = :data:`ARCHIVE_ROOT`, the archive)."""

    def __init__(self, store: ObjectStore, root: str = RAW_ROOT) -> None:
        self.store = store
        self.root = root

    def partition(self, source: str, entity: str, date: str) -> str:
        return f"{self.root}/source={source}/entity={entity}/date={date}"

    def write(self, response: ApiResponse, run_id: str, seq: int, page: str) -> str:
        """Store body (gzip) and metadata; returns the body key. Existing objects are never replaced."""
        date = response.fetched_at[:10]
        stem = f"{self.partition(response.source, response.entity, date)}/{run_id}-{seq:06d}"
        meta = response.meta() | {"run_id": run_id, "seq": seq, "page": page}
        self.store.put_new(f"{stem}.meta.json", json.dumps(meta, ensure_ascii=False, sort_keys=True).encode())
        self.store.put_new(f"{stem}.json.gz", gzip.compress(response.body, mtime=0))
        return f"{stem}.json.gz"

    def read_day(self, source: str, date: str) -> Iterator[StoredResponse]:
        """Every stored response of ``source`` on ``date`` (all entities), in (run, seq) order."""
        prefix = f"{self.root}/source={source}/"
        bodies = [k for k in self.store.list(prefix) if k.endswith(".json.gz") and f"/date={date}/" in k]
        items = []
        for key in bodies:
            meta = json.loads(self.store.get(key.removesuffix(".json.gz") + ".meta.json"))
            items.append(StoredResponse(key, meta, gzip.decompress(self.store.get(key))))
        items.sort(key=lambda s: (s.meta["run_id"], s.meta["seq"]))
        yield from items
