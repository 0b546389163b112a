"""Caption text features: a fixed-size hashed term-frequency vector, script flags and the hashtag count."""

from __future__ import annotations

from collections.abc import Sequence

from pyspark.ml.feature import HashingTF, RegexTokenizer
from pyspark.ml.functions import vector_to_array
from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from dip.features.caption import ARABIC_PATTERN, LATIN_PATTERN  # one definition for Spark and dip.serving


def text_features(
    posts: DataFrame,
    vector_size: int,
    token_pattern: str,
    min_token_length: int = 1,
    keys: Sequence[str] = ("source", "post_id"),
) -> DataFrame:
    """Per ``keys`` (a post, or a post's window): ``caption_vec`` (array<float> of ``vector_size`` term
    counts), ``is_arabic``, ``is_latin``, ``hashtag_count``.

    Tokens: lower-cased matches of ``token_pattern`` in the caption (a null caption is empty: a zero
    vector); each token adds 1 at ``murmur3(token) mod vector_size`` (Spark's HashingTF). The flags
    say whether the caption holds any Arabic / Latin letter; ``hashtag_count`` is the number of
    distinct hashtags silver extracted. :func:`dip.features.caption.caption_features` is the same for one post.
    """
    caption = F.coalesce(F.col("caption"), F.lit(""))
    base = posts.select(*keys, caption.alias("_text"), "hashtags")
    tokenizer = RegexTokenizer(
        inputCol="_text", outputCol="_tokens", pattern=token_pattern, gaps=False, minTokenLength=min_token_length
    )
    hashing = HashingTF(inputCol="_tokens", outputCol="_tf", numFeatures=vector_size)
    hashed = hashing.transform(tokenizer.transform(base))
    return hashed.select(
        *keys,
        vector_to_array(F.col("_tf"), dtype="float32").alias("caption_vec"),
        F.col("_text").rlike(ARABIC_PATTERN).alias("is_arabic"),
        F.col("_text").rlike(LATIN_PATTERN).alias("is_latin"),
        F.when(F.col("hashtags").isNull(), 0).otherwise(F.size("hashtags")).cast("int").alias("hashtag_count"),
    )
