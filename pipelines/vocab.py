"""WordPiece vocabulary facts the instance builder needs, as plain Python/NumPy data.

Why a class of its own: masking must know which ids are special ([CLS], [SEP], [MASK], [PAD]), which
ids are word continuations ("##ing", for whole-word masking) and which ids are *real* wordpieces that
may replace a masked token (the original recipe draws from the whole vocabulary, [PAD] and [unused17]
included; we draw only real wordpieces).

Example:
    >>> vocab = Vocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "##s"])
    >>> vocab.cls_id, vocab.random_token_ids.tolist(), vocab.is_continuation[6]
    (2, [5, 6], True)
"""

from __future__ import annotations

import dataclasses
import functools
import re

import numpy as np

REQUIRED_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")
_BRACKETED = re.compile(r"^\[[^\]]+\]$")  # [PAD], [unused12], [CLS], <not wordpieces>


class VocabError(ValueError):
    """The vocabulary cannot be used for BERT pre-training (message names the file)."""


@dataclasses.dataclass(frozen=True)
class Vocab:
    """An ordered WordPiece vocabulary; token id = line number in vocab.txt."""

    tokens: tuple[str, ...]

    @classmethod
    def from_tokens(cls, tokens, source: str = "<vocab>") -> "Vocab":
        tokens = tuple(tokens)
        missing = [t for t in REQUIRED_SPECIAL_TOKENS if t not in tokens]
        if missing:
            raise VocabError(f"vocab {source} lacks required special tokens {missing}")
        if len(set(tokens)) != len(tokens):
            raise VocabError(f"vocab {source} has duplicate tokens")
        return cls(tokens)

    @classmethod
    def from_file(cls, path: str) -> "Vocab":
        """Reads vocab.txt (one token per line, UTF-8); local paths and gs:// both work."""
        import tensorflow as tf  # only for gfile (gs:// support); the class itself is TF-free.

        if not tf.io.gfile.exists(path):
            raise VocabError(f"vocab file not found: {path}")
        with tf.io.gfile.GFile(path, "r") as f:
            tokens = [line.rstrip("\n").rstrip("\r") for line in f]
        while tokens and not tokens[-1]:
            tokens.pop()
        return cls.from_tokens(tokens, source=path)

    def __len__(self) -> int:
        return len(self.tokens)

    def id_of(self, token: str) -> int:
        return self._index[token]

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    pad_id = property(lambda self: self.id_of("[PAD]"))
    unk_id = property(lambda self: self.id_of("[UNK]"))
    cls_id = property(lambda self: self.id_of("[CLS]"))
    sep_id = property(lambda self: self.id_of("[SEP]"))
    mask_id = property(lambda self: self.id_of("[MASK]"))

    @functools.cached_property
    def random_token_ids(self) -> np.ndarray:
        """Ids a masked position may be replaced by: every token that is not bracketed ([..])."""
        return np.array([i for i, t in enumerate(self.tokens) if not _BRACKETED.match(t)], np.int64)

    @functools.cached_property
    def non_wordpiece_ids(self) -> frozenset[int]:
        """The complement of random_token_ids: [PAD], [CLS], [SEP], [MASK], [UNK], [unusedN], …"""
        return frozenset(range(len(self.tokens))) - frozenset(self.random_token_ids.tolist())

    @functools.cached_property
    def is_continuation(self) -> np.ndarray:
        """Boolean per id: True for '##' pieces that continue the previous word."""
        return np.array([t.startswith("##") for t in self.tokens], bool)
