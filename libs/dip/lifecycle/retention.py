"""Retention: the raw zone's archive and expiry (locally by ``dip maintain``, on S3 by bucket lifecycle rules),
the rows each zone keeps, and the bucket's default encryption.

On S3 the bucket does the raw zone's lifecycle itself: :func:`s3_lifecycle_requests` renders the
``PutBucketLifecycleConfiguration`` (raw zone to an archive storage class after ``lifecycle.raw.archive_after_days``,
deleted after ``expire_after_days``) and ``PutBucketEncryption`` (SSE-KMS with ``lifecycle.kms_key_id``) request
bodies. Table files are never given an S3 expiry: a Delta or Hudi file removed behind the log corrupts the table;
their rows expire through the table format (``lifecycle.retention_days``, ``dip maintain``).
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlparse

from dip.config import Config
from dip.config.models import RawRetentionConfig
from dip.connectors.raw_zone import ARCHIVE_ROOT, RAW_ROOT, ObjectStore

_DATE = re.compile(r"/date=(\d{4}-\d{2}-\d{2})/")


@dataclass(frozen=True)
class RawRetention:
    """What one local raw-zone pass did: objects moved to the archive, objects deleted for good."""

    archived: int = 0
    expired: int = 0


def _day(key: str) -> date | None:
    match = _DATE.search(key)
    return date.fromisoformat(match.group(1)) if match else None


def apply_raw_retention(store: ObjectStore, raw: RawRetentionConfig, today: date) -> RawRetention:
    """Move raw objects of days older than ``archive_after_days`` to ``archive/raw/`` (same layout, so
    ``dip replay --archive`` still finds them) and delete raw or archived objects older than ``expire_after_days``.

    A move writes the archive copy before removing the original, so an interrupted pass leaves both (the next pass
    completes it) and never neither.
    """
    archive_before = today - timedelta(days=raw.archive_after_days)
    expire_before = today - timedelta(days=raw.expire_after_days) if raw.expire_after_days else None
    archived = expired = 0
    for root in (ARCHIVE_ROOT, RAW_ROOT):
        for key in store.list(f"{root}/"):
            day = _day(key)
            if day is None:
                continue
            if expire_before is not None and day < expire_before:
                store.delete(key)
                expired += 1
            elif root == RAW_ROOT and day < archive_before:
                target = ARCHIVE_ROOT + key.removeprefix(RAW_ROOT)
                with contextlib.suppress(FileExistsError):  # an earlier interrupted pass copied it already
                    store.put_new(target, store.get(key))
                store.delete(key)
                archived += 1
    return RawRetention(archived, expired)


def lake_bucket(config: Config) -> tuple[str, str]:
    """(bucket, key prefix) of an S3 ``lake.root``; a clear error for any other scheme."""
    parsed = urlparse(config.lake.root)
    if parsed.scheme not in ("s3", "s3a"):
        raise ValueError(f"the s3-lifecycle target needs an s3:// lake.root (e.g. --env emr), not {config.lake.root!r}")
    prefix = parsed.path.strip("/")
    return parsed.netloc, f"{prefix}/" if prefix else ""


def s3_lifecycle_requests(config: Config) -> dict[str, dict[str, Any]]:
    """The S3 API request bodies, by operation name: bucket lifecycle rules and default encryption."""
    bucket, prefix = lake_bucket(config)
    raw = config.lifecycle.raw
    raw_rule: dict[str, Any] = {
        "ID": "dip-raw-zone-archive",
        "Filter": {"Prefix": f"{prefix}{RAW_ROOT}/"},
        "Status": "Enabled",
        "Transitions": [{"Days": raw.archive_after_days, "StorageClass": raw.archive_storage_class}],
    }
    if raw.expire_after_days is not None:
        raw_rule["Expiration"] = {"Days": raw.expire_after_days}
    uploads = {
        "ID": "dip-abort-incomplete-uploads",
        "Filter": {"Prefix": prefix},
        "Status": "Enabled",
        "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    }
    kms = config.lifecycle.kms_key_id
    default = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms} if kms else {"SSEAlgorithm": "AES256"}
    return {
        "PutBucketLifecycleConfiguration": {
            "Bucket": bucket,
            "LifecycleConfiguration": {"Rules": [raw_rule, uploads]},
        },
        "PutBucketEncryption": {
            "Bucket": bucket,
            "ServerSideEncryptionConfiguration": {
                "Rules": [{"ApplyServerSideEncryptionByDefault": default, "BucketKeyEnabled": bool(kms)}]
            },
        },
    }
