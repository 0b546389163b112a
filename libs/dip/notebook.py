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
from dip.tables import ALL_TABLES, FEATURE_TABLES, Table

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

TABLES: dict[str, Table] = {t.name: t for t in ALL_TABLES}


def session(env: str | None = None, app_name: str = "dip-notebook") -> tuple[SparkSession, Config]:
    """The configured SparkSession (lake tables registered as ``dip.<name>``) and its config."""
    from dip.spark import build_session

    config = load_config(env)
    return build_session(config, app_name=app_name), config


def table(spark: SparkSession, config: Config, name: str) -> DataFrame:
    """The lake table ``name`` (``silver_posts`` or ``dip.silver_posts``) read from its configured location."""
    key = name.removeprefix("dip.")
    if key not in TABLES:
        raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
    if key in FEATURE_TABLES:  # feature tables may be Delta or Hudi (`features.table_format`)
        from dip.features.specs import feature_table
        from dip.features.store import feature_store

        return feature_store(spark, config).read(feature_table(key))
    return spark.read.format("delta").load(TABLES[key].path(config))


def exists(spark: SparkSession, config: Config, name: str) -> bool:
    """Whether the lake table ``name`` has been written yet."""
    from delta.tables import DeltaTable

    key = name.removeprefix("dip.")
    if key not in TABLES:
        raise ValueError(f"unknown table {name!r} (known: {', '.join(sorted(TABLES))})")
    return DeltaTable.isDeltaTable(spark, TABLES[key].path(config))
