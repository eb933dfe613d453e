"""The WordPiece vocabulary, read one way by every stage (pipeline, trainer, export, fine-tuning,
tools).

`read_tokens` is the only reader of vocab.txt: one token per line, token id = line number (0-based),
UTF-8; a blank line, a duplicate token or undecodable bytes are refused with the line number — a
blank line would otherwise shift every later id for one reader and not another.

Why a class of its own: masking must know which ids are special ([CLS], [SEP], [MASK], [PAD]), which
ids are word continuations ("##ing", for whole-word masking) and which ids are *real* wordpieces
that may replace a masked token (the original recipe draws from the whole vocabulary, [PAD] and
[unused17] included; we draw only real wordpieces).

Example:
    >>> vocab = Vocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "the", "##s"])
    >>> vocab.cls_id, vocab.random_token_ids.tolist(), bool(vocab.is_continuation[6])
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


def parse_tokens(data: bytes, source: str = "<vocab>") -> tuple[str, ...]:
    """vocab.txt bytes → tokens; refuses blank lines, duplicates and bad UTF-8, naming the line.

    >>> parse_tokens(b"[PAD]\\n[UNK]\\nthe\\n")
    ('[PAD]', '[UNK]', 'the')
    >>> parse_tokens(b"[PAD]\\n\\nthe\\n", "v.txt")
    Traceback (most recent call last):
    ...
    bert_tf.core.vocab.VocabError: vocab v.txt line 2 is blank (every line is one token; its line number is its id)
    """
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the final newline ends the last line; it does not start another
    tokens, seen = [], {}
    for number, raw in enumerate(lines, start=1):
        try:
            token = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError as error:
            raise VocabError(
                f"vocab {source} line {number} is not UTF-8 ({error.reason})"
            ) from None
        if not token.strip():
            raise VocabError(
                f"vocab {source} line {number} is blank (every line is one token; "
                "its line number is its id)"
            )
        if token in seen:
            raise VocabError(
                f"vocab {source} line {number} repeats {token!r} of line {seen[token]}"
            )
        seen[token] = number
        tokens.append(token)
    if not tokens:
        raise VocabError(f"vocab {source} is empty")
    return tuple(tokens)


def read_tokens(path: str) -> tuple[str, ...]:
    """The tokens of vocab.txt at `path` (local or gs://), checked by `parse_tokens`."""
    from bert_tf.core import storage

    if not storage.exists(path):
        raise VocabError(f"vocab file not found: {path}")
    if storage.isdir(path):
        raise VocabError(f"vocab {path} is a directory; pass the vocab.txt file")
    with storage.open_file(path, "rb") as f:
        return parse_tokens(f.read(), path)


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
        """Reads vocab.txt with `read_tokens` (local paths and gs://) and checks the special
        tokens."""
        return cls.from_tokens(read_tokens(path), source=path)

    def __len__(self) -> int:
        return len(self.tokens)

    def id_of(self, token: str) -> int:
        return self._index[token]

    @functools.cached_property
    def _index(self) -> dict[str, int]:
        return {t: i for i, t in enumerate(self.tokens)}

    @functools.cached_property
    def pad_id(self) -> int:
        return self.id_of("[PAD]")

    @functools.cached_property
    def unk_id(self) -> int:
        return self.id_of("[UNK]")

    @functools.cached_property
    def cls_id(self) -> int:
        return self.id_of("[CLS]")

    @functools.cached_property
    def sep_id(self) -> int:
        return self.id_of("[SEP]")

    @functools.cached_property
    def mask_id(self) -> int:
        return self.id_of("[MASK]")

    @functools.cached_property
    def never_masked_ids(self) -> frozenset[int]:
        """[CLS], [SEP] and [PAD]: positions holding them are never chosen for prediction."""
        return frozenset((self.cls_id, self.sep_id, self.pad_id))

    @functools.cached_property
    def never_masked(self) -> np.ndarray:
        """Boolean per id: True for the never_masked_ids (indexable by a whole array of ids)."""
        flags = np.zeros(len(self.tokens), bool)
        flags[list(self.never_masked_ids)] = True
        return flags

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
