"""`dip feast export`'s files, from config: the online store on DIP's Redis, one FeatureView per view."""

from __future__ import annotations

import ast
import re

from dip.config import Config, load_config
from dip.online.feast_repo import definitions_py, feature_store_yaml


def _config(**environ: str) -> Config:
    return load_config(environ={"DIP_ENV": "local", "DIP__LAKE__ROOT": "file:///lake", **environ})


def test_feature_store_yaml_points_at_dips_redis_without_secrets() -> None:
    config = _config(DIP__REDIS__PORT="6380", DIP__REDIS__DB="3", DIP__REDIS__PASSWORD="s3cret")
    text = feature_store_yaml(config)
    assert text == (
        "project: dip\n"
        "registry: data/registry.db\n"
        "provider: local\n"
        "online_store:\n"
        "  type: redis\n"
        '  connection_string: "127.0.0.1:6380,db=3,password=${DIP__REDIS__PASSWORD}"\n'
        "  key_ttl_seconds: 172800\n"
        "offline_store:\n"
        "  type: duckdb\n"
        "entity_key_serialization_version: 3\n"
    )
    assert "s3cret" not in text


def test_definitions_declare_every_view_with_feast_types_and_sources() -> None:
    text = definitions_py(_config(DIP__FEATURES__TABLE_FORMAT="delta", DIP__ONLINE__FEAST_PROJECT="shop"))
    ast.parse(text)  # valid Python
    assert 'post = Entity(name="post", join_keys=["post_id"], value_type=ValueType.STRING)' in text
    assert 'account = Entity(name="account", join_keys=["account_id"], value_type=ValueType.STRING)' in text
    assert "ttl=timedelta(seconds=172800)" in text
    assert (
        "source=FileSource(name=\"post_features_daily_source\", path='/lake/features/post_features_daily', "
        'file_format=DeltaFormat(), timestamp_field="window_end", created_timestamp_column="computed_at"),'
    ) in text
    assert (
        "source=FileSource(name=\"post_live_source\", path='/lake/silver/post_metrics', "
        'file_format=DeltaFormat(), timestamp_field="captured_at"),'
    ) in text
    for line in (
        'Field(name="views_delta", dtype=Int64),',
        'Field(name="engagement_ratio_last", dtype=Float64),',
        'Field(name="is_arabic", dtype=Bool),',
        'Field(name="top_hashtags", dtype=String),',
        'Field(name="caption_vec", dtype=Array(Float32)),',
    ):
        assert line in text
    views = re.findall(r"^(\w+) = FeatureView\(", text, flags=re.MULTILINE)
    assert views == ["post_features_daily", "account_features_daily", "post_live", "account_live"]


def test_hudi_tables_are_parquet_sources() -> None:
    text = definitions_py(_config(DIP__FEATURES__TABLE_FORMAT="hudi"))
    assert "path='/lake/features/account_features_daily', file_format=ParquetFormat()" in text
