"""The NotNext pool's sample: the documents with the smallest content keys within a count and a size
limit, combined across workers so that the result depends only on the corpus, never on how the
runner split it (pipelines/transforms.NotNextPool reads, combines and tokenizes it).

    >>> docs = [RawDocument(f"f#{i}", [text]) for i, text in enumerate(["ab", "cd", "ef", "gh"])]
    >>> sample = smallest_keys_within(docs, count=2, max_chars=100)
    >>> len(sample), sample == sorted(docs, key=lambda d: d.key)[:2]  # the 2 smallest content keys
    (2, True)
"""

from __future__ import annotations

import operator

import apache_beam as beam

from pipelines.sources import RawDocument, RawPage


def sorted_by_key(keyed_documents: list) -> list:
    return sorted(keyed_documents, key=operator.itemgetter(0))


def smallest_keys_within(
    documents: list[RawDocument | RawPage], count: int, max_chars: int
) -> list[RawDocument | RawPage]:
    """The longest run of `documents` in content-key order with at most `count` documents and
    `max_chars` characters (but at least 2 documents; a Wikipedia page counts its wikitext's
    characters, as it is cleaned only once chosen). Taking a *prefix* in key order makes the
    result of trimming parts and then their union the same as trimming everything at once — what a
    CombineFn needs.

    >>> docs = [RawDocument(f"f#{i}", [text]) for i, text in enumerate(["ab", "cd", "ef", "gh", "ij"])]
    >>> [len(smallest_keys_within(docs, count, chars)) for count, chars in [(10, 7), (3, 100), (10, 0)]]
    [3, 3, 2]
    >>> smallest_keys_within(docs, 3, 100) == sorted(docs, key=lambda d: d.key)[:3]
    True
    """
    ordered, kept, chars = sorted(documents, key=lambda d: d.key), 0, 0
    for document in ordered[:count]:
        chars += document.characters()
        if chars > max_chars and kept >= 2:
            break
        kept += 1
    return ordered[:kept]


class SmallestKeysWithin(beam.CombineFn):
    """Combines documents into `smallest_keys_within` of all of them (Beam's Top bounds only the
    count; a sample of 10,000 books would be gigabytes). Accumulators are trimmed once they hold
    twice the limits, so each stays bounded."""

    def __init__(self, count: int, max_chars: int):
        self._count, self._max_chars = count, max_chars

    def create_accumulator(self):
        return [], 0

    def add_input(self, accumulator, document):
        documents, chars = accumulator
        documents.append(document)
        chars += document.characters()
        if len(documents) > 2 * self._count or chars > 2 * self._max_chars:
            documents = smallest_keys_within(documents, self._count, self._max_chars)
            chars = sum(d.characters() for d in documents)
        return documents, chars

    def merge_accumulators(self, accumulators):
        documents = smallest_keys_within(
            [d for part, _ in accumulators for d in part], self._count, self._max_chars
        )
        return documents, sum(d.characters() for d in documents)

    def extract_output(self, accumulator):
        return smallest_keys_within(accumulator[0], self._count, self._max_chars)
