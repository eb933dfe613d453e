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
import csv
import json
import logging
import sys
import unicodedata
from typing import Iterable

from bert_tf.core import storage

log = logging.getLogger(__name__)

IGNORE = -100  # the label of a piece that carries no tag (Keras `ignore_class`, PyTorch's default)

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


def _csv_sentences(f, delimiter: str, words_column: str, tags_column: str) -> Iterable[tuple]:
    """(words, tags) of CSV/TSV rows whose two columns hold space-separated words and tags."""
    csv.field_size_limit(sys.maxsize)
    reader = csv.DictReader(f, delimiter=delimiter)
    absent = [c for c in (words_column, tags_column) if c not in (reader.fieldnames or [])]
    if absent:
        raise ValueError(f"no column {absent}; the header has {reader.fieldnames}")
    for record in reader:
        words, tags = record.get(words_column), record.get(tags_column)
        yield (words or "").split(), (None if tags is None else tags.split())


def _jsonl_sentences(f, words_column: str, tags_column: str) -> Iterable[tuple]:
    """(words, tags) of JSON lines holding two lists; a line that is not such an object gives
    (None, None)."""
    for line in f:
        if not line.strip():
            continue
        try:
            record = json.loads(line)
            words, tags = record[words_column], record[tags_column]
        except (ValueError, KeyError, TypeError):
            yield None, None
            continue
        lists = isinstance(words, list) and isinstance(tags, list)
        yield (words, tags) if lists else (None, None)


def _checked(rows: Iterable[tuple]) -> tuple[list[Sentence], collections.Counter]:
    """The usable (words, tags) rows as strings, and the others counted by reason."""
    sentences, skipped = [], collections.Counter()
    for words, tags in rows:
        reason = "not_words_and_tags" if words is None else check_sentence(words, tags or [])
        if reason:
            skipped[reason] += 1
        else:
            sentences.append(([str(w) for w in words], [str(t) for t in tags]))
    return sentences, skipped


def read_tagged_sentences(
    path: str, words_column: str = "words", tags_column: str = "tags"
) -> tuple[list[Sentence], dict[str, int]]:
    """Sentences (words, tags) of a CoNLL file (any name), a CSV/TSV (`.csv`/`.tsv` in the name; the
    columns hold space-separated words and tags) or JSON lines (`.jsonl`/`.json`); every unusable row
    is a counted skip by reason, logged once. ValueError when nothing is usable.

    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "train.jsonl")
    >>> _ = open(path, "w").write('{"words": ["Ann", "ran"], "tags": ["B-PER", "O"]}\\n{"words": ["x"], "tags": []}\\n')
    >>> read_tagged_sentences(path)
    ([(['Ann', 'ran'], ['B-PER', 'O'])], {'tag_count_differs_from_word_count': 1})
    """
    name = path.lower()
    with storage.open_text(path) as f:
        if ".csv" in name or ".tsv" in name:
            delimiter = "\t" if ".tsv" in name else ","
            sentences, skipped = _checked(_csv_sentences(f, delimiter, words_column, tags_column))
        elif ".json" in name:
            sentences, skipped = _checked(_jsonl_sentences(f, words_column, tags_column))
        else:
            sentences, skipped = parse_conll(f.read().splitlines())
    if skipped:
        log.warning("%s: skipped %s", path, dict(skipped))
    if not sentences:
        raise ValueError(f"{path}: no usable tagged sentences (skipped: {dict(skipped)})")
    return sentences, dict(skipped)


def word_spans(text: str) -> list[tuple[int, int]]:
    """[start, end) character offsets of the words of raw text: runs of letters, digits and combining
    marks, and every other character that is not a space or a control character alone (a
    punctuation mark, a symbol). The graph splits text by the same rule (`tagger.WORD_PATTERN`), so
    served taggers and QA models return these words.

    >>> word_spans("Hi, Zoë!")
    [(0, 2), (2, 3), (4, 7), (7, 8)]
    """
    spans, start = [], None
    for index, char in enumerate(text):
        kind = unicodedata.category(char)[0]
        if kind in "LNM":
            start = index if start is None else start
            continue
        if start is not None:
            spans.append((start, index))
            start = None
        if kind not in "ZC":
            spans.append((index, index + 1))
    return spans + [(start, len(text))] if start is not None else spans


def split_words(text: str) -> list[str]:
    """The words of raw text (`word_spans`).

    >>> split_words("Hello, Zoë's 2 cafés!")
    ['Hello', ',', 'Zoë', "'", 's', '2', 'cafés', '!']
    """
    return [text[start:end] for start, end in word_spans(text)]


def sentence_rows(
    pieces_per_word: list[list[int]],
    tag_ids: list[int],
    max_seq_length: int,
    stride: int,
    cls_id: int,
    sep_id: int,
) -> list[tuple[list[int], list[int]]]:
    """(ids, labels) of every window of one sentence: `[CLS] pieces [SEP]` and each piece's label
    (the word's tag id on its first piece, IGNORE elsewhere), unpadded. Windows hold
    max_seq_length − 2 pieces and start every `stride` pieces (at most the window); a sentence whose
    words all tokenize to nothing gives no row.

    >>> sentence_rows([[7], [8, 9], [5]], [1, 2, 0], max_seq_length=4, stride=1, cls_id=101, sep_id=102)
    [([101, 7, 8, 102], [-100, 1, 2, -100]), ([101, 8, 9, 102], [-100, 2, -100, -100]), ([101, 9, 5, 102], [-100, -100, 0, -100])]
    """
    pieces = [piece for word in pieces_per_word for piece in word]
    labels = first_piece_labels([len(word) for word in pieces_per_word], tag_ids, IGNORE)
    if not pieces:
        return []
    length = max_seq_length - 2
    return [
        ([cls_id, *pieces[start:end], sep_id], [IGNORE, *labels[start:end], IGNORE])
        for start, end in windows(len(pieces), length, min(stride, length))
    ]
