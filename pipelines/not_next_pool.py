"""The NotNext pool's sample: the documents with the smallest content keys within a count and a size
limit, combined across workers so that the result depends only on the corpus, never on how the
runner split it (pipelines/transforms.NotNextPool reads, combines and tokenizes it).

Only (key, characters) pairs are combined, never texts: a runner holds every bundle's partial
result until the merge, so texts in them would put up to the size limit per bundle — for a
many-file Wikipedia dump, gigabytes — in its memory. The chosen documents are read again by key.

    >>> sizes = [("c", 2), ("a", 2), ("d", 2), ("b", 2)]
    >>> smallest_keys_within(sizes, count=2, max_chars=100)  # the 2 smallest content keys
    [('a', 2), ('b', 2)]
"""

from __future__ import annotations

import operator

import apache_beam as beam

KeySize = tuple[str, int]  # (content key, characters)


def sorted_by_key(keyed_documents: list) -> list:
    return sorted(keyed_documents, key=operator.itemgetter(0))


def smallest_keys_within(sizes: list[KeySize], count: int, max_chars: int) -> list[KeySize]:
    """The longest run of `sizes` in key order with at most `count` documents and `max_chars`
    characters (but at least 2 documents; a Wikipedia page counts its wikitext's characters, as it
    is cleaned only once chosen). Taking a *prefix* in key order makes the result of trimming parts
    and then their union the same as trimming everything at once — what a CombineFn needs.

    >>> sizes = [(key, 2) for key in "abcde"]
    >>> [len(smallest_keys_within(sizes, count, chars)) for count, chars in [(10, 7), (3, 100), (10, 0)]]
    [3, 3, 2]
    """
    ordered, kept, chars = sorted(sizes), 0, 0
    for _, size in ordered[:count]:
        chars += size
        if chars > max_chars and kept >= 2:
            break
        kept += 1
    return ordered[:kept]


class SmallestKeysWithin(beam.CombineFn):
    """Combines (key, characters) pairs into the frozenset of keys `smallest_keys_within` chooses
    among all of them (Beam's Top bounds only the count, not the characters). Accumulators are
    trimmed once they hold twice the limits, so each stays bounded."""

    def __init__(self, count: int, max_chars: int):
        self._count, self._max_chars = count, max_chars

    def create_accumulator(self):
        return [], 0

    def add_input(self, accumulator, key_size: KeySize):
        sizes, chars = accumulator
        sizes.append(key_size)
        chars += key_size[1]
        if len(sizes) > 2 * self._count or chars > 2 * self._max_chars:
            return self._trimmed(sizes)
        return sizes, chars

    def merge_accumulators(self, accumulators):
        return self._trimmed([pair for part, _ in accumulators for pair in part])

    def compact(self, accumulator):
        return self._trimmed(accumulator[0])

    def extract_output(self, accumulator) -> frozenset[str]:
        chosen = smallest_keys_within(accumulator[0], self._count, self._max_chars)
        return frozenset(key for key, _ in chosen)

    def _trimmed(self, sizes: list[KeySize]):
        sizes = smallest_keys_within(sizes, self._count, self._max_chars)
        return sizes, sum(size for _, size in sizes)
