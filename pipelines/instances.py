"""Tokenized documents → NSP sentence pairs, following the original BERT recipe (docs/recipe.md §3).

Pure Python: a document is a sequence of sentences (a list, or a `PackedDocument` in the pipeline),
a sentence a list of wordpiece ids. Randomness comes from the `random.Random` passed in, seeded per
document by `document_rng`, so the output depends only on (seed, dupe index, document content) —
never on which worker or bundle processed it.

Differences from google-research/bert `create_instances_from_document`, on purpose:
- the NotNext segment comes from a *really* different document (the original retries 10 times and
  may keep the same one); with no other document available a single-sentence chunk yields no pair;
- the short target length is re-drawn for every chunk (the original draws it once per document, so a
  document's pairs are all short or all long, and short documents are over-represented).

Example:
    >>> rng = random.Random(0)
    >>> doc = [[5, 6, 7], [8, 9], [10, 11, 12]]
    >>> pairs = create_pairs_from_document(0, [doc, [[20, 21]]], PairingConfig(max_seq_length=16), rng)
    >>> [(p.tokens_a, p.tokens_b, p.is_random_next) for p in pairs][0][2] in (True, False)
    True
"""

from __future__ import annotations

import dataclasses
import hashlib
import random
from typing import Sequence

import numpy as np

Sentence = Sequence[int]
Document = Sequence[Sentence]


@dataclasses.dataclass(frozen=True)
class PairingConfig:
    max_seq_length: int = 128
    short_seq_prob: float = 0.1
    next_sentence_prediction: bool = True
    # The original draws the short target once per document (a short document gets all chunks short);
    # we draw it per chunk, so short_seq_prob is the share of chunks with a short target.
    short_target_per_document: bool = False

    @property
    def max_num_tokens(self) -> int:
        """Room for wordpieces after [CLS] A [SEP] B [SEP] (or [CLS] A [SEP] without NSP)."""
        return self.max_seq_length - (3 if self.next_sentence_prediction else 2)


@dataclasses.dataclass
class SentencePair:
    tokens_a: list[int]
    tokens_b: list[int]
    is_random_next: bool


def document_rng(seed: int, dupe_index: int, document_key: str) -> random.Random:
    """A generator seeded only by (seed, dupe index, stable document key)."""
    digest = hashlib.sha256(f"{seed}:{dupe_index}:{document_key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def truncate_seq_pair(
    tokens_a: list[int], tokens_b: list[int], max_num_tokens: int, rng: random.Random
) -> None:
    """In place: drop one token at a time from the longer segment, front or back with p=0.5 (one
    draw per dropped token, as the original; the cuts are counted first and made once per end)."""
    length_a, length_b = len(tokens_a), len(tokens_b)
    front_a = back_a = front_b = back_b = 0
    for _ in range(length_a + length_b - max_num_tokens):
        front = rng.random() < 0.5
        if length_a > length_b:
            length_a -= 1
            front_a, back_a = front_a + front, back_a + (not front)
        else:
            length_b -= 1
            front_b, back_b = front_b + front, back_b + (not front)
    del tokens_a[len(tokens_a) - back_a :], tokens_a[:front_a]
    del tokens_b[len(tokens_b) - back_b :], tokens_b[:front_b]


class PackedDocument(Sequence):
    """A tokenized document as two arrays — every id, and each sentence's length — instead of one
    list per sentence: one cheap element to ship between workers and compact in a worker's NotNext
    pool. Sentences come out as lists of ids, made when asked for; empty sentences are dropped.

    >>> document = PackedDocument.from_sentences([[5, 6], [], [7]])
    >>> len(document), document[1], document.sentences()
    (2, [7], [[5, 6], [7]])
    """

    def __init__(self, ids: np.ndarray, lengths: np.ndarray):
        lengths = lengths[lengths > 0]
        self.ids, self.lengths = (
            ids.astype(np.int32, copy=False),
            lengths.astype(np.int32, copy=False),
        )
        self._starts = np.concatenate([[0], np.cumsum(self.lengths)]).tolist()

    @classmethod
    def from_sentences(cls, sentences: Sequence[Sentence]) -> "PackedDocument":
        ids = np.array([t for s in sentences for t in s], np.int32)
        return cls(ids, np.array([len(s) for s in sentences], np.int32))

    def __reduce__(self):
        return PackedDocument, (self.ids, self.lengths)

    def __len__(self) -> int:
        return len(self.lengths)

    def __getitem__(self, index: int) -> list[int]:
        if not 0 <= index < len(self.lengths):
            raise IndexError(index)
        return self.ids[self._starts[index] : self._starts[index + 1]].tolist()

    def sentences(self) -> list[list[int]]:
        ids = self.ids.tolist()
        return [ids[start:end] for start, end in zip(self._starts[:-1], self._starts[1:])]


class PoolView(Sequence):
    """`document` at index 0, then every document of `sample` but itself (`own_position` in
    `sample`, or None), without copying: the NotNext pool of one document when NotNext segments come
    from a fixed sample of the corpus (pipelines/transforms.py).

    >>> view = PoolView([[1]], [[[0]], [[1]], [[2]]], own_position=1)
    >>> len(view), [view[i] for i in range(len(view))]
    (3, [[[1]], [[0]], [[2]]])
    """

    def __init__(self, document: Document, sample: Sequence[Document], own_position: int | None):
        self._document, self._sample, self._own = document, sample, own_position

    def __len__(self) -> int:
        return 1 + len(self._sample) - (self._own is not None)

    def __getitem__(self, index: int) -> Document:
        if index == 0:
            return self._document
        if not 0 < index < len(self):
            raise IndexError(index)
        index -= 1
        return self._sample[index + 1 if self._own is not None and index >= self._own else index]


def draw_other_document(pool: Sequence[Document], own_index: int, rng: random.Random):
    """A uniformly drawn document of `pool` other than `pool[own_index]`; None if there is none."""
    if len(pool) < 2:
        return None
    index = rng.randrange(len(pool) - 1)
    return pool[index + 1 if index >= own_index else index]


def _target_length(config: PairingConfig, rng: random.Random) -> int:
    if rng.random() < config.short_seq_prob:
        return rng.randint(2, config.max_num_tokens)
    return config.max_num_tokens


def _random_segment_b(other: Document, target_b_length: int, rng: random.Random) -> list[int]:
    """Sentences of `other` from a random one on, until `target_b_length` tokens (empty ones add
    nothing)."""
    tokens_b: list[int] = []
    for index in range(rng.randint(0, len(other) - 1), len(other)):
        tokens_b.extend(other[index])
        if len(tokens_b) >= target_b_length:
            break
    return tokens_b


def create_pairs_from_document(
    own_index: int, pool: Sequence[Document], config: PairingConfig, rng: random.Random
) -> list[SentencePair]:
    """All sentence pairs of `pool[own_index]`; NotNext segments come from other pool documents.

    Without NSP (`config.next_sentence_prediction=False`) each pair holds one segment A of whole
    sentences filling the target length (RoBERTa FULL-SENTENCES within a document), tokens_b empty.
    """
    document = [s for s in pool[own_index] if len(s) > 0]
    pairs: list[SentencePair] = []
    chunk: list[Sentence] = []
    chunk_length = 0
    target = _target_length(config, rng)
    i = 0
    while i < len(document):
        chunk.append(document[i])
        chunk_length += len(document[i])
        if i == len(document) - 1 or chunk_length >= target:
            pair, unused = _pair_from_chunk(chunk, target, own_index, pool, config, rng)
            i -= unused  # sentences not used for A go back to the document
            if pair is not None:
                truncate_seq_pair(pair.tokens_a, pair.tokens_b, config.max_num_tokens, rng)
                pairs.append(pair)
            chunk, chunk_length = [], 0
            if not config.short_target_per_document:
                target = _target_length(config, rng)
        i += 1
    return pairs


def _pair_from_chunk(chunk, target, own_index, pool, config, rng):
    """Returns (pair or None, number of chunk sentences to put back)."""
    if not config.next_sentence_prediction:
        return SentencePair([t for s in chunk for t in s], [], False), 0
    a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
    tokens_a = [t for s in chunk[:a_end] for t in s]
    if len(chunk) == 1 or rng.random() < 0.5:
        other = draw_other_document(pool, own_index, rng)
        tokens_b = _random_segment_b(other, target - len(tokens_a), rng) if other else []
        if tokens_b:
            return SentencePair(tokens_a, tokens_b, True), len(chunk) - a_end
        if len(chunk) == 1:
            return None, 0  # no other document to draw B from, no second sentence for IsNext
    tokens_b = [t for s in chunk[a_end:] for t in s]
    return SentencePair(tokens_a, tokens_b, False), 0
