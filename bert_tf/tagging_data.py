"""Token-tagging data as pure Python: sentences from the CoNLL layout, a tag on each word's first
wordpiece (the BERT paper's NER setup), and sentences longer than the model's sequence cut into
overlapping windows whose predictions are joined back, each word read from the window where it has the
most context on both sides (as google-research/bert's `run_squad.py` reads answers).

Example:
    >>> sentences, skipped = parse_conll(["-DOCSTART- O", "", "John B-PER", "lives O", "", "Paris"])
    >>> sentences, dict(skipped)
    ([(['John', 'lives'], ['B-PER', 'O'])], {'line_without_tag': 1})
    >>> first_piece_labels([2, 1], [3, 0], ignore=-100)
    [3, -100, 0]
    >>> windows(10, length=4, stride=2)
    [(0, 4), (2, 6), (4, 8), (6, 10)]
"""

from __future__ import annotations

import collections
from typing import Iterable

Sentence = tuple[list[str], list[str]]


def parse_conll(lines: Iterable[str]) -> tuple[list[Sentence], collections.Counter]:
    """Sentences (words, tags) from CoNLL lines: the word is the first column, the tag the last, a blank
    line ends a sentence, `-DOCSTART-` lines are document marks. A line with one column is a counted skip
    (its sentence is kept without it)."""
    sentences, skipped, words, tags = [], collections.Counter(), [], []
    for line in [*lines, ""]:
        columns = line.split()
        if columns and columns[0] == "-DOCSTART-":
            continue
        if not columns:
            if words:
                sentences.append((words, tags))
            words, tags = [], []
        elif len(columns) == 1:
            skipped["line_without_tag"] += 1
        else:
            words.append(columns[0])
            tags.append(columns[-1])
    return sentences, skipped


def check_sentence(words: list, tags: list) -> str | None:
    """Why a (words, tags) row cannot be used, or None: the counted-skip reason for rows of CSV/JSONL
    input."""
    if not words:
        return "no_words"
    if len(words) != len(tags):
        return "tag_count_differs_from_word_count"
    return None


def first_piece_labels(pieces_per_word: list[int], tag_ids: list[int], ignore: int) -> list[int]:
    """One label per wordpiece: the word's tag on its first piece, `ignore` on the others (and on words
    that tokenize to nothing, which have no piece to carry a tag)."""
    labels = []
    for count, tag in zip(pieces_per_word, tag_ids, strict=True):
        labels += [tag] + [ignore] * (count - 1) if count else []
    return labels


def windows(n_pieces: int, length: int, stride: int) -> list[tuple[int, int]]:
    """Piece ranges [start, end) of at most `length` pieces, starting every `stride` pieces, that cover
    `n_pieces`; one range when it fits."""
    if length < 1 or not 0 < stride <= length:
        raise ValueError(f"windows of {length} pieces need a stride in 1..{length}, got {stride}")
    starts = list(range(0, max(n_pieces - length, 0) + 1, stride))
    if starts[-1] + length < n_pieces:
        starts.append(n_pieces - length)
    return [(start, min(start + length, n_pieces)) for start in starts]


def best_window(spans: list[tuple[int, int]], position: int) -> int:
    """Index of the window in which `position` has the most context: the largest min(pieces before,
    pieces after), ties to the earlier window (`run_squad.py`'s max-context rule)."""
    scores = [
        (min(position - start, end - 1 - position), -index)
        for index, (start, end) in enumerate(spans)
        if start <= position < end
    ]
    if not scores:
        raise ValueError(f"piece {position} is in none of the windows {spans}")
    return -max(scores)[1]
