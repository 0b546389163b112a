"""The forgotten-accounts list: accounts whose data was deleted on request and must never come back.

It is the set of account hashes (``sha256("<source>:<account_id>")``) in the ``forget_audit`` Delta table, read
without a JVM (delta-rs), so ingest (plain Python) skips the account and stream_bronze / stream_silver drop its
rows with one ``isin`` filter per micro-batch: no Spark job of its own, and no filter at all when nobody was
forgotten. Only hashes are kept, so the list itself holds nothing readable of the account.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from dip.config import Config
from dip.tables import FORGET_AUDIT

if TYPE_CHECKING:
    from pyspark.sql import Column


def account_hash(source: str, account_id: str) -> str:
    """The one-way key of an account in the forgotten list and the audit."""
    return hashlib.sha256(f"{source}:{account_id}".encode()).hexdigest()


def forgotten_hashes(config: Config) -> frozenset[str]:
    """Hashes of every forgotten account (empty before the first ``dip forget``)."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    from dip.io.arrow_reader import _local

    options: dict[str, str] = {}
    endpoint = config.connectors.s3_endpoint_url  # an S3-compatible store (MinIO, a local S3), as the raw zone
    if endpoint:
        options = {"AWS_ENDPOINT_URL": endpoint, "AWS_ALLOW_HTTP": str(endpoint.startswith("http://")).lower()}
    try:
        table = DeltaTable(_local(FORGET_AUDIT.path(config)), storage_options=options or None)
    except TableNotFoundError:
        return frozenset()
    return frozenset(v for v in table.to_pyarrow_table(columns=["account_hash"]).column(0).to_pylist() if v)


def forgotten_filter(hashes: frozenset[str], source: str = "source", account: str = "account_id") -> Column:
    """A Spark column, true for rows of a forgotten account; a literal false when the list is empty."""
    from pyspark.sql import functions as F

    if not hashes:
        return F.lit(False)
    return F.coalesce(F.sha2(F.concat_ws(":", F.col(source), F.col(account)), 256).isin(*sorted(hashes)), F.lit(False))
