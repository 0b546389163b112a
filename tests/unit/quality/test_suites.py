"""Expectation suites from ``expectations/``, their row-level predicates, and the failed names per row."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.quality.suites import (
    Expectation,
    Suite,
    holds_by_construction,
    load_suite,
    load_suites,
    predicate,
    with_failures,
)

EXPECTATIONS = Path(__file__).resolve().parents[3] / "expectations"


def test_load_suites_from_the_project_folder() -> None:
    suites = load_suites(EXPECTATIONS)
    summary = {t: (s.name, len(s.expectations), len(s.row_level), len(s.table_level)) for t, s in suites.items()}
    assert summary == {
        "account_metrics": ("silver_account_metrics", 6, 6, 0),
        "accounts": ("silver_accounts", 3, 2, 1),
        "audience": ("silver_audience", 6, 6, 0),
        "post_captions": ("silver_post_captions", 4, 3, 1),
        "post_metrics": ("silver_post_metrics", 11, 10, 1),
        "posts": ("silver_posts", 8, 7, 1),
        "predictions": ("silver_predictions", 7, 6, 1),
    }


def test_load_suite_keeps_types_kwargs_and_names_in_order() -> None:
    suite = load_suite(EXPECTATIONS / "accounts.json")
    assert suite.table == "accounts"
    assert suite.expectations == (
        Expectation("expect_column_values_to_not_be_null", {"column": "account_id"}),
        Expectation("expect_column_values_to_be_in_set", {"column": "source", "value_set": ["instagram", "tiktok"]}),
        Expectation("expect_compound_columns_to_be_unique", {"column_list": ["source", "account_id"]}),
    )
    assert [e.name for e in suite.expectations] == [
        "expect_column_values_to_not_be_null(account_id)",
        "expect_column_values_to_be_in_set(source)",
        "expect_compound_columns_to_be_unique",
    ]


def test_suite_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = tmp_path / "posts.json"
    path.write_text(
        '{"expectations": [{"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 1}}]}',
        encoding="utf-8",
    )
    suite = load_suite(path)
    assert (suite.name, suite.table, suite.expectations) == (
        "posts",
        "posts",
        (Expectation("expect_table_row_count_to_be_between", {"min_value": 1}),),
    )


@pytest.mark.parametrize(
    ("expectation", "message"),
    [
        pytest.param(
            '{"type": "expect_column_values_to_be_between", "kwargs": {"column": "likes", "min_vlue": 0}}',
            "Great Expectations rejects this suite: .*min_vlue",
            id="misspelled-kwarg",
        ),
        pytest.param(
            '{"type": "expect_column_vals_to_be_positive", "kwargs": {"column": "likes"}}',
            "Great Expectations rejects this suite: .*expect_column_vals_to_be_positive not found",
            id="unknown-type",
        ),
        pytest.param(
            '{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "likes", '
            '"row_condition": "views > 0", "condition_parser": "spark"}}',
            r"expect_column_values_to_not_be_null\(likes\): row_condition, condition_parser is not supported",
            id="row-condition",
        ),
    ],
)
def test_suites_are_checked_by_great_expectations(tmp_path: Path, expectation: str, message: str) -> None:
    """A typo must not become a check that always passes (issue 15)."""
    path = tmp_path / "post_metrics.json"
    path.write_text(f'{{"name": "s", "expectations": [{expectation}]}}', encoding="utf-8")
    with pytest.raises(ValueError, match=f"(?s)^{re.escape(str(path))}: {message}"):
        load_suite(path)


def test_mostly_makes_a_row_level_expectation_soft(spark: SparkSession) -> None:
    suite = Suite("s", "t", (
        Expectation("expect_column_values_to_not_be_null", {"column": "a"}),
        Expectation("expect_column_values_to_be_between", {"column": "b", "min_value": 0, "mostly": 0.9}),
    ), {})  # fmt: skip
    df = spark.createDataFrame([(1, "ok", 1), (2, None, 1), (3, "x", -1), (4, None, -1)], "i INT, a STRING, b INT")
    got = {r["i"]: (r["_failed"], r["_hard"]) for r in with_failures(df, suite).collect()}
    between = "expect_column_values_to_be_between(b)"
    not_null = "expect_column_values_to_not_be_null(a)"
    assert got == {1: ([], False), 2: ([not_null], True), 3: ([between], False), 4: ([not_null, between], True)}


def test_uniqueness_over_the_merge_keys_holds_by_construction() -> None:
    keys = ("source", "post_id")
    unique = "expect_compound_columns_to_be_unique"
    assert holds_by_construction(Expectation(unique, {"column_list": ["source", "post_id"]}), keys)
    assert holds_by_construction(Expectation(unique, {"column_list": ["post_id", "source", "run_id"]}), keys)
    assert not holds_by_construction(Expectation(unique, {"column_list": ["post_id"]}), keys)
    assert not holds_by_construction(Expectation(unique, {"column_list": keys, "mostly": 0.5}), keys)
    assert holds_by_construction(Expectation("expect_column_values_to_be_unique", {"column": "request_id"}),
                                 ("request_id",))  # fmt: skip
    assert not holds_by_construction(Expectation("expect_table_row_count_to_be_between", {"min_value": 1}), keys)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('{"name": "s"}', id="no-expectations"),
        pytest.param('{"expectations": [{"kwargs": {"column": "a"}}]}', id="expectation-without-type"),
        pytest.param('{"expectations": "expect_column_values_to_not_be_null"}', id="expectations-not-a-list"),
        pytest.param("[]", id="not-an-object"),
        pytest.param('{"expectations": [', id="not-json"),
    ],
)
def test_malformed_suite_is_a_value_error_naming_the_file(tmp_path: Path, text: str) -> None:
    path = tmp_path / "broken.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=f"^{re.escape(str(path))}: not a Great Expectations suite"):
        load_suite(path)


def _passes(spark: SparkSession, values: list, ddl: str, expectation: Expectation) -> list[bool]:
    df = spark.createDataFrame([(i, v) for i, v in enumerate(values)], f"i INT, x {ddl}")
    return [r["ok"] for r in df.select("i", predicate(expectation).alias("ok")).orderBy("i").collect()]


def _e(kind: str, **kwargs: object) -> Expectation:
    return Expectation(f"expect_column_{kind}", {"column": "x", **kwargs})


@pytest.mark.parametrize(
    ("values", "ddl", "expectation", "expected"),
    [
        pytest.param([None, 0, -1], "INT", _e("values_to_not_be_null"), [False, True, True], id="not-null"),
        pytest.param(
            [None, -1, 0, 10, 11], "INT", _e("values_to_be_between", min_value=0, max_value=10),
            [True, False, True, True, False], id="between-inclusive",
        ),
        pytest.param(
            [None, 0, 1, 9, 10], "INT", _e("values_to_be_between", min_value=0, max_value=10, strict_min=True,
                                           strict_max=True),
            [True, False, True, True, False], id="between-strict",
        ),
        pytest.param([-0.5, 0.0, 1e12], "DOUBLE", _e("values_to_be_between", min_value=0), [False, True, True],
                     id="min-only"),
        pytest.param(
            [None, "instagram", "tiktok", "Instagram", ""], "STRING",
            _e("values_to_be_in_set", value_set=["instagram", "tiktok"]), [True, True, True, False, False], id="in-set",
        ),
        pytest.param(
            [None, "18001", "abc_DEF", "a-b", "", "x" * 65], "STRING",
            _e("values_to_match_regex", regex="^[0-9A-Za-z_]{1,64}$"), [True, True, True, False, False, False],
            id="regex",
        ),
        pytest.param(
            [None, "a", "ab", "عباية", "abcde"], "STRING", _e("value_lengths_to_be_between", min_value=2, max_value=5),
            [True, False, True, True, True], id="lengths",
        ),
        pytest.param(
            ["", "✨✨✨", "abcd"], "STRING", _e("value_lengths_to_be_between", max_value=3),
            [True, True, False], id="lengths-max-only-counts-characters",
        ),
    ],
)  # fmt: skip
def test_predicates_let_nulls_pass_all_but_not_null(
    spark: SparkSession, values: list, ddl: str, expectation: Expectation, expected: list[bool]
) -> None:
    assert _passes(spark, values, ddl, expectation) == expected


def test_table_level_expectation_has_no_row_predicate() -> None:
    unique = Expectation("expect_compound_columns_to_be_unique", {"column": "x"})
    with pytest.raises(ValueError, match=r"^expect_compound_columns_to_be_unique is not a row-level expectation$"):
        predicate(unique)


def test_with_failures_names_every_failed_expectation_per_row(spark: SparkSession) -> None:
    suite = load_suite(EXPECTATIONS / "posts.json")
    df = spark.createDataFrame(
        [
            ("ok", "18001", "acc-1", "instagram", "2026-11-20 18:30:05", "IMAGE", "caption"),
            ("bad-id", "180-01", "acc-1", "instagram", "2026-11-20 18:30:05", "REELS", None),
            ("many", None, None, "facebook", None, "STORY", "x" * 2201),
        ],
        "case STRING, post_id STRING, account_id STRING, source STRING, created_at STRING, media_type STRING, "
        "caption STRING",
    ).withColumn("created_at", F.col("created_at").cast("timestamp"))
    failed = {r["case"]: r["_failed"] for r in with_failures(df, suite).collect()}
    assert failed == {
        "ok": [],
        "bad-id": ["expect_column_values_to_match_regex(post_id)"],
        "many": [
            "expect_column_values_to_not_be_null(post_id)",
            "expect_column_values_to_not_be_null(account_id)",
            "expect_column_values_to_be_in_set(source)",
            "expect_column_values_to_not_be_null(created_at)",
            "expect_column_values_to_be_in_set(media_type)",
            "expect_column_value_lengths_to_be_between(caption)",
        ],
    }


def test_with_failures_of_a_suite_without_row_level_expectations(spark: SparkSession) -> None:
    suite = Suite("s", "t", (Expectation("expect_table_row_count_to_be_between", {"min_value": 1}),), {})
    out = with_failures(spark.createDataFrame([(1,)], "x INT"), suite)
    assert out.schema["_failed"].dataType.simpleString() == "array<string>"
    assert [r["_failed"] for r in out.collect()] == [[]]


def test_every_merge_key_column_has_a_not_null_expectation() -> None:
    """A null key never matches in MERGE: each replay would insert the row again. So every key is checked."""
    from dip.quality.suites import load_suites
    from dip.silver.merge import SPECS

    suites = load_suites(Path(__file__).resolve().parents[3] / "expectations")
    missing = []
    for table, spec in SPECS.items():
        checked = {
            e.kwargs["column"] for e in suites[table].expectations if e.type == "expect_column_values_to_not_be_null"
        }
        missing += [f"{table}.{column}" for column in spec.keys if column not in checked and column != "source"]
    assert missing == []
