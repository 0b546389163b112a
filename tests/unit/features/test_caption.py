"""Plain-Python caption features: exact values, and parity with the Spark pipeline on the same captions."""

from __future__ import annotations

import pytest
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from dip.features.caption import caption_features, extract_hashtags, murmur3_32, normalise_hashtags, tokens
from dip.features.text import text_features
from dip.silver.normalize import hashtags as silver_hashtags

CAPTIONS = [
    "Black abaya #Abaya #modest",
    "عباية سوداء #عباية",
    "مَرْحَبًا بِكُم ✨ #عبايات_فاخرة #Abaya ##double #a#b",
    "Ünïcode café ŞIK #Şık 2026 x² under_score",
    "🅰🅱 emoji only 😍😍 #😍 #",
    "",
    None,
]


@pytest.mark.parametrize(
    ("data", "seed", "expected"),
    # reference values of MurmurHash3_x86_32 (smhasher test vectors)
    [(b"", 0, 0), (b"", 1, 0x514E28B7), (b"hello", 0, 0x248BFA47), (b"\xff\xff\xff\xff", 0, 0x76293B50)],
)
def test_murmur3_reference_vectors(data: bytes, seed: int, expected: int) -> None:
    assert murmur3_32(data, seed) % (1 << 32) == expected


def test_tokens_hashtags_and_flags_exact() -> None:
    assert tokens("Black ABAYA, عباية!  x_1", min_token_length=2) == ["black", "abaya", "عباية", "x_1"]
    assert extract_hashtags("#Abaya #abaya ##x #a#b #") == ["abaya", "x", "a", "b"]
    assert normalise_hashtags(["#Abaya", "abaya", "Modest", "#"]) == ["abaya", "modest"]
    features = caption_features("عباية Black", ["abaya"], vector_size=4)
    assert (features["is_arabic"], features["is_latin"], features["hashtag_count"]) == (True, True, 1)
    assert sum(features["caption_vec"]) == 2.0 and len(features["caption_vec"]) == 4


def test_other_token_patterns_are_refused() -> None:
    with pytest.raises(ValueError, match="support token_pattern"):
        caption_features("x", [], vector_size=4, token_pattern=r"\S+")


@pytest.mark.parametrize("min_token_length", [1, 3])
def test_same_values_as_the_spark_pipeline(spark: SparkSession, min_token_length: int) -> None:
    rows = [("instagram", f"p{i}", caption) for i, caption in enumerate(CAPTIONS)]
    posts = spark.createDataFrame(rows, "source STRING, post_id STRING, caption STRING").withColumn(
        "hashtags", silver_hashtags(F.coalesce(F.col("caption"), F.lit("")))
    )
    spark_rows = {
        r["post_id"]: r
        for r in text_features(posts, 32, r"(?U)\w+", min_token_length).join(posts, ["source", "post_id"]).collect()
    }
    for i, caption in enumerate(CAPTIONS):
        row = spark_rows[f"p{i}"]
        assert extract_hashtags(caption) == row["hashtags"], caption
        assert caption_features(caption, row["hashtags"], vector_size=32, min_token_length=min_token_length) == {
            "caption_vec": row["caption_vec"],
            "is_arabic": row["is_arabic"],
            "is_latin": row["is_latin"],
            "hashtag_count": row["hashtag_count"],
        }, caption
