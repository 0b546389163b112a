"""Caption and hashtag features of one post in plain Python (no Spark), for scoring a post not yet in the lake.

The definitions are those of the batch pipeline: silver's hashtag extraction (``(?U)#(\\w+)``, lower-cased,
de-duplicated) and :func:`dip.features.text.text_features` (the default ``(?U)\\w+`` RegexTokenizer on the
lower-cased caption, Spark HashingTF = murmur3_x86_32 with seed 42 of the UTF-8 token mod ``vector_size``,
script flags by :data:`ARABIC_PATTERN` / :data:`LATIN_PATTERN`). The Spark path reads the same pattern
constants from here; ``tests/unit/features/test_caption.py`` runs both on the same captions and compares.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from typing import Any

# Arabic, Arabic Supplement, Arabic Extended-A and the presentation forms A/B.
ARABIC_PATTERN = "[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]"
# Basic Latin letters and Latin-1 Supplement / Extended-A/B letters (accents: é, ş...).
LATIN_PATTERN = "[A-Za-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u024f]"
DEFAULT_TOKEN_PATTERN = r"(?U)\w+"
HASHING_SEED = 42  # org.apache.spark.ml.feature.HashingTF's murmur3 seed

_ARABIC = re.compile(ARABIC_PATTERN)
_LATIN = re.compile(LATIN_PATTERN)
# Java's \w under UNICODE_CHARACTER_CLASS: Alphabetic, marks, decimal digits, connector punctuation, joiners.
_WORD_CATEGORIES = frozenset({"Lu", "Ll", "Lt", "Lm", "Lo", "Nl", "Mn", "Mc", "Me", "Nd", "Pc"})
_OTHER_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
_JOIN_CONTROLS = frozenset({"\u200c", "\u200d"})


def is_word_char(ch: str) -> bool:
    """Whether ``ch`` matches Java's ``(?U)\\w`` (what Spark's RegexTokenizer and silver's hashtag regex use)."""
    if unicodedata.category(ch) in _WORD_CATEGORIES or ch in _JOIN_CONTROLS:
        return True
    code = ord(ch)
    return any(lo <= code <= hi for lo, hi in _OTHER_ALPHABETIC_SYMBOLS)


def _word_runs(text: str, start: int) -> Iterator[tuple[int, int]]:
    """``(begin, end)`` of every maximal run of word characters in ``text`` from ``start``."""
    i, n = start, len(text)
    while i < n:
        if not is_word_char(text[i]):
            i += 1
            continue
        j = i + 1
        while j < n and is_word_char(text[j]):
            j += 1
        yield i, j
        i = j


def tokens(caption: str | None, min_token_length: int = 1) -> list[str]:
    """RegexTokenizer(pattern ``(?U)\\w+``, gaps false, lower-case): word runs of the lower-cased caption."""
    text = (caption or "").lower()
    runs = (text[b:e] for b, e in _word_runs(text, 0))
    return [t for t in runs if len(t.encode("utf-16-le")) // 2 >= min_token_length]  # Java length: UTF-16 units


def extract_hashtags(caption: str | None) -> list[str]:
    """Silver's hashtags: ``#`` + a word run, lower-cased, de-duplicated in order of appearance."""
    text = caption or ""
    found: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "#" and i + 1 < len(text) and is_word_char(text[i + 1]):
            _, end = next(_word_runs(text, i + 1))
            found.append(text[i + 1 : end].lower())
            i = end
        else:
            i += 1
    return list(dict.fromkeys(found))


def normalise_hashtags(hashtags: Iterable[str]) -> list[str]:
    """Caller-sent hashtags as silver stores them: without a leading ``#``, lower-cased, de-duplicated."""
    return list(dict.fromkeys(tag.removeprefix("#").lower() for tag in hashtags if tag.removeprefix("#")))


def murmur3_32(data: bytes, seed: int = HASHING_SEED) -> int:
    """MurmurHash3 x86 32-bit of ``data`` as a signed int (Spark's ``Murmur3_x86_32.hashUnsafeBytes2``)."""
    c1, c2, mask = 0xCC9E2D51, 0x1B873593, 0xFFFFFFFF
    h = seed & mask
    rotl = lambda x, r: ((x << r) | (x >> (32 - r))) & mask  # noqa: E731
    full = len(data) - len(data) % 4
    for i in range(0, full, 4):
        k = rotl((int.from_bytes(data[i : i + 4], "little") * c1) & mask, 15) * c2 & mask
        h = (rotl(h ^ k, 13) * 5 + 0xE6546B64) & mask
    tail = data[full:]
    if tail:
        k = rotl((int.from_bytes(tail, "little") * c1) & mask, 15) * c2 & mask
        h ^= k
    h ^= len(data)
    h = ((h ^ (h >> 16)) * 0x85EBCA6B) & mask
    h = ((h ^ (h >> 13)) * 0xC2B2AE35) & mask
    h ^= h >> 16
    return h - (1 << 32) if h & 0x80000000 else h


def caption_vector(caption: str | None, vector_size: int, min_token_length: int = 1) -> list[float]:
    """HashingTF term counts: each token adds 1 at ``murmur3(utf8(token)) mod vector_size`` (non-negative)."""
    vec = [0.0] * vector_size
    for token in tokens(caption, min_token_length):
        vec[murmur3_32(token.encode("utf-8")) % vector_size] += 1.0
    return vec


def caption_features(
    caption: str | None,
    hashtags: list[str],
    *,
    vector_size: int,
    token_pattern: str = DEFAULT_TOKEN_PATTERN,
    min_token_length: int = 1,
) -> dict[str, Any]:
    """``caption_vec``, ``is_arabic``, ``is_latin`` and ``hashtag_count`` of one post (``hashtags`` as silver's)."""
    if token_pattern != DEFAULT_TOKEN_PATTERN:
        raise ValueError(f"plain-Python caption features support token_pattern {DEFAULT_TOKEN_PATTERN!r} only")
    text = caption or ""
    return {
        "caption_vec": caption_vector(text, vector_size, min_token_length),
        "is_arabic": _ARABIC.search(text) is not None,
        "is_latin": _LATIN.search(text) is not None,
        "hashtag_count": len(hashtags),
    }
