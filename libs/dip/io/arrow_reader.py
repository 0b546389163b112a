"""JVM-free reads of lake tables into Arrow: delta-rs (``deltalake``) and hudi-rs (``hudi``).

For places where a SparkSession is too heavy: notebook helpers, ``dip online`` tools, small checks,
the Hudi commit timeline of the online push. Paths are the lake's URIs (``file://``, ``s3://``...).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import urlparse

from dip.config import Config
from dip.io.table_access import table_format
from dip.tables import Table

if TYPE_CHECKING:
    import pyarrow as pa

HUDI_META_PREFIX = "_hoodie_"


def _local(uri: str) -> str:
    """delta-rs and hudi-rs take plain paths for the local file system."""
    parsed = urlparse(uri)
    return parsed.path if parsed.scheme == "file" else uri


def completed_instants(path: str) -> list[str]:
    """Requested times of the completed commits on a Hudi table's timeline, oldest first."""
    from hudi import HudiTableBuilder

    timeline = HudiTableBuilder.from_base_uri(_local(path)).build().get_timeline()
    instants = [*timeline.get_completed_commits(), *timeline.get_completed_replacecommits()]
    return sorted(i.timestamp for i in instants)


def read_hudi(path: str) -> pa.Table:
    """A Hudi table's latest snapshot (copy-on-write), without Hudi's ``_hoodie_*`` meta columns."""
    import pyarrow as pa
    from hudi import HudiTableBuilder

    table = HudiTableBuilder.from_base_uri(_local(path)).build()
    batches = table.read()  # a snapshot query by default
    arrow = pa.Table.from_batches(batches) if batches else table.get_schema().empty_table()
    keep = [c for c in arrow.column_names if not c.startswith(HUDI_META_PREFIX)]
    return arrow.select(keep)


def read_delta(path: str) -> pa.Table:
    """A Delta table's latest version."""
    from deltalake import DeltaTable

    return DeltaTable(_local(path)).to_pyarrow_table()


def delta_commit_time(path: str) -> datetime | None:
    """When the Delta table's latest version was committed (UTC), or None before its first write."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    try:
        history = DeltaTable(_local(path)).history(1)
    except TableNotFoundError:
        return None
    return datetime.fromtimestamp(history[0]["timestamp"] / 1000, UTC) if history else None


def read_delta_if_exists(path: str) -> pa.Table | None:
    """A Delta table's latest version, or None before its first write."""
    from deltalake.exceptions import TableNotFoundError

    try:
        return read_delta(path)
    except TableNotFoundError:
        return None


def read_arrow(config: Config, table: Table) -> pa.Table:
    """The lake table in its configured format (feature tables: ``features.table_format``), as Arrow."""
    path = table.path(config)
    return read_hudi(path) if table_format(config, table) == "hudi" else read_delta(path)
