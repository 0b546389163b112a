"""Point-in-time join: the latest window ending at or before each label time, never a later one."""

from __future__ import annotations

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from dip.features.offline import point_in_time_join
from dip.features.specs import POST_DAILY
from tests.unit.features.conftest import utc

FEATURES_DDL = "source STRING, post_id STRING, window_start TIMESTAMP, window_end TIMESTAMP, views_delta BIGINT"
ENTITIES_DDL = "entity_id STRING, ts TIMESTAMP, label INT"
OUT_DDL = ENTITIES_DDL + ", post_features_daily__window_end TIMESTAMP, post_features_daily__views_delta BIGINT"


def test_point_in_time_join(spark: SparkSession) -> None:
    features = spark.createDataFrame(
        [
            ("instagram", "p1", utc(2026, 11, 23), utc(2026, 11, 24), 10),
            ("instagram", "p1", utc(2026, 11, 24), utc(2026, 11, 25), 20),
            # a future window: must never be served for a label before 27 Nov
            ("instagram", "p1", utc(2026, 11, 26), utc(2026, 11, 27), 999),
            ("instagram", "p2", utc(2026, 11, 24), utc(2026, 11, 25), 7),
        ],
        FEATURES_DDL,
    )
    entities = spark.createDataFrame(
        [
            ("p1", utc(2026, 11, 24, 12), 1),  # between two windows -> the earlier (ends 24 Nov)
            ("p1", utc(2026, 11, 25), 2),  # exactly at a window end -> that window
            ("p1", utc(2026, 11, 26, 23, 59, 59), 3),  # one second before the future window ends -> not it
            ("p1", utc(2026, 11, 23, 23), 4),  # before any window ends -> nulls
            ("p1", utc(2026, 11, 24, 12), 5),  # duplicate (entity, ts) rows are both kept
            ("p3", utc(2026, 11, 30), 6),  # unknown entity -> nulls
            ("p2", utc(2031, 1, 1), 7),  # far future -> the latest window
        ],
        ENTITIES_DDL,
    )
    result = point_in_time_join(entities, features, POST_DAILY)
    expected = [
        ("p1", utc(2026, 11, 24, 12), 1, utc(2026, 11, 24), 10),
        ("p1", utc(2026, 11, 25), 2, utc(2026, 11, 25), 20),
        ("p1", utc(2026, 11, 26, 23, 59, 59), 3, utc(2026, 11, 25), 20),
        ("p1", utc(2026, 11, 23, 23), 4, None, None),
        ("p1", utc(2026, 11, 24, 12), 5, utc(2026, 11, 24), 10),
        ("p3", utc(2026, 11, 30), 6, None, None),
        ("p2", utc(2031, 1, 1), 7, utc(2026, 11, 25), 7),
    ]
    assertDataFrameEqual(result, spark.createDataFrame(expected, OUT_DDL))
    assert result.where(F.col("post_features_daily__window_end") > F.col("ts")).count() == 0
