"""Helpers for the notebooks in ``notebooks/``: a session from config and tables by name, no copied paths.

Usage in a notebook::

    from dip.notebook import session, table
    spark, config = session()
    posts = table(spark, config, "silver_posts")

The lake is the configured one (``DIP__LAKE__ROOT`` overrides it, as for every command).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dip.config import Config, load_config
from dip.io.arrow_reader import read_arrow
from dip.io.table_access import read_table, table_exists
from dip.tables import ALL_TABLES, Table

if TYPE_CHECKING:
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def session(env: str | None = None, app_name: str = "dip-notebook") -> tuple[SparkSession, Config]:
    """The configured SparkSession (lake tables registered as ``dip.<name>``) and its config."""
    from dip.spark import build_session

    config = load_config(env)
    return build_session(config, app_name=app_name, name_tables=True), config


def table(spark: SparkSession, config: Config, name: str) -> DataFrame:
    """The lake table ``name`` (``silver_posts`` or ``dip.silver_posts``) read from its configured location."""
    key = name.removeprefix("dip.")
    if key not in TABLES:
        raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
    return read_table(spark, config, TABLES[key])  # feature tables in `features.table_format`


def exists(spark: SparkSession, config: Config, name: str) -> bool:
    """Whether the lake table ``name`` has been written yet."""
    key = name.removeprefix("dip.")
    if key not in TABLES:
        raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
    return table_exists(spark, config, TABLES[key])


def arrow(config: Config, name: str) -> pa.Table:
    """The lake table ``name`` read without a JVM (delta-rs / hudi-rs): quick looks, no SparkSession."""
    key = name.removeprefix("dip.")
    if key not in TABLES:
        raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
    return read_arrow(config, TABLES[key])
