"""Deletion requests and their audit trail: the ``forget_audit`` Delta table, written without a JVM (delta-rs).

A request is recorded first (status ``requested``): from then on the account is on the forgotten list that ingest,
stream_bronze and stream_silver consult, whoever asked (``dip forget`` or a platform's deletion callback through
``POST /v1/admin/forget``). ``dip forget`` then removes the data and appends the ``completed`` row with the count per
place. Rows hold the account only as ``sha256("<source>:<account_id>")``, never the id or any of its data.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from dip.config import Config
from dip.io.arrow_reader import _local
from dip.io.forgotten import account_hash
from dip.tables import FORGET_AUDIT

REQUESTED, COMPLETED = "requested", "completed"


@dataclass(frozen=True)
class ForgetRequest:
    """One deletion request: its confirmation code, the account's hash and who asked."""

    request_id: str
    source: str
    account_hash: str
    requested_by: str
    requested_at: datetime
    purge: bool


def _schema():  # -> pa.Schema
    import pyarrow as pa

    return pa.schema(
        [
            ("request_id", pa.string()),
            ("source", pa.string()),
            ("account_hash", pa.string()),
            ("requested_by", pa.string()),
            ("requested_at", pa.timestamp("us", tz="UTC")),
            ("purge", pa.bool_()),
            ("status", pa.string()),
            ("counts_json", pa.string()),  # {"<place>": rows/objects/keys removed}
            ("recorded_at", pa.timestamp("us", tz="UTC")),
        ]
    )


def _append(config: Config, request: ForgetRequest, status: str, counts: dict[str, int] | None) -> None:
    import pyarrow as pa
    from deltalake import write_deltalake

    row = {
        "request_id": request.request_id,
        "source": request.source,
        "account_hash": request.account_hash,
        "requested_by": request.requested_by,
        "requested_at": request.requested_at,
        "purge": request.purge,
        "status": status,
        "counts_json": json.dumps(counts, sort_keys=True) if counts is not None else None,
        "recorded_at": datetime.now(UTC),
    }
    table = pa.Table.from_pylist([row], schema=_schema())
    write_deltalake(_local(FORGET_AUDIT.path(config)), table, mode="append")


def record_request(
    config: Config, source: str, account_id: str, requested_by: str, purge: bool = False
) -> ForgetRequest:
    """Put the account on the forgotten list now (ingest and the streams drop it from their next run or batch)."""
    if not source or not account_id:
        raise ValueError("forget needs a source and an account id")
    request = ForgetRequest(
        uuid.uuid4().hex, source, account_hash(source, account_id), requested_by, datetime.now(UTC), purge
    )
    _append(config, request, REQUESTED, None)
    return request


def record_completed(config: Config, request: ForgetRequest, counts: dict[str, int]) -> None:
    """The audit row of a finished deletion: what was removed where (counts only)."""
    _append(config, request, COMPLETED, counts)


def audit_rows(config: Config) -> list[dict]:
    """Every audit row, oldest first (empty before the first request)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        rows = DeltaTable(_local(FORGET_AUDIT.path(config))).to_pyarrow_table().to_pylist()
    except TableNotFoundError:
        return []
    return sorted(rows, key=lambda r: r["recorded_at"])


def request_status(config: Config, request_id: str) -> str | None:
    """``requested``, ``completed`` or None for an unknown confirmation code."""
    statuses = [r["status"] for r in audit_rows(config) if r["request_id"] == request_id]
    return COMPLETED if COMPLETED in statuses else (statuses[0] if statuses else None)


def pending_requests(config: Config) -> list[ForgetRequest]:
    """Requests without a ``completed`` row yet (e.g. from the deletion callback), oldest first."""
    rows = audit_rows(config)
    done = {r["request_id"] for r in rows if r["status"] == COMPLETED}
    return [
        ForgetRequest(
            r["request_id"], r["source"], r["account_hash"], r["requested_by"], r["requested_at"], bool(r["purge"])
        )
        for r in rows
        if r["status"] == REQUESTED and r["request_id"] not in done
    ]
