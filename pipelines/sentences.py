"""Document paragraphs → sentences, with pysbd (rule-based, offline, handles abbreviations such as
"Dr.", "e.g.", "U.S." and decimals that a naive split on '.' breaks).

Example:
    >>> split_sentences(["Dr. Smith went to Washington. He arrived at 3 p.m. on Monday."])
    ['Dr. Smith went to Washington.', 'He arrived at 3 p.m. on Monday.']
"""

from __future__ import annotations

import functools

import pysbd


@functools.lru_cache(maxsize=None)
def _segmenter(language: str) -> pysbd.Segmenter:
    return pysbd.Segmenter(language=language, clean=False)


def split_sentences(paragraphs: list[str], language: str = "en") -> list[str]:
    """Sentences of all paragraphs, in order, stripped, empty ones dropped."""
    segmenter = _segmenter(language)
    sentences = []
    for paragraph in paragraphs:
        sentences.extend(s.strip() for s in segmenter.segment(paragraph) if s.strip())
    return sentences
