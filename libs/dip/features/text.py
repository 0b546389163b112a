"""Caption text features: a fixed-size hashed term-frequency vector, script flags and the hashtag count."""

from __future__ import annotations

from pyspark.ml.feature import HashingTF, RegexTokenizer
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

# Arabic, Arabic Supplement, Arabic Extended-A and the presentation forms A/B.
ARABIC_PATTERN = "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"
# Basic Latin letters and Latin-1 Supplement / Extended-A/B letters (accents: é, ş...).
LATIN_PATTERN = "[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"


def text_features(posts: DataFrame, vector_size: int, token_pattern: str, min_token_length: int = 1) -> DataFrame:
    """Per post: ``caption_vec`` (array<float> of ``vector_size`` term counts), ``is_arabic``, ``is_latin``,
    ``hashtag_count``.

    Tokens: lower-cased matches of ``token_pattern`` in the caption (a null caption is empty: a zero
    vector); each token adds 1 at ``murmur3(token) mod vector_size`` (Spark's HashingTF). The flags
    say whether the caption holds any Arabic / Latin letter; ``hashtag_count`` is the number of
    distinct hashtags silver extracted.
    """
    caption = F.coalesce(F.col("caption"), F.lit(""))
    base = posts.select("source", "post_id", caption.alias("_text"), "hashtags")
    tokenizer = RegexTokenizer(
        inputCol="_text", outputCol="_tokens", pattern=token_pattern, gaps=False, minTokenLength=min_token_length
    )
    hashing = HashingTF(inputCol="_tokens", outputCol="_tf", numFeatures=vector_size)
    hashed = hashing.transform(tokenizer.transform(base))
    return hashed.select(
        "source",
        "post_id",
        vector_to_array(F.col("_tf"), dtype="float32").alias("caption_vec"),
        F.col("_text").rlike(ARABIC_PATTERN).alias("is_arabic"),
        F.col("_text").rlike(LATIN_PATTERN).alias("is_latin"),
        F.when(F.col("hashtags").isNull(), 0).otherwise(F.size("hashtags")).cast("int").alias("hashtag_count"),
    )
