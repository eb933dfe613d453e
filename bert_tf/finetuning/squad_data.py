"""Extractive QA data as pure Python: SQuAD v1.1/v2.0 JSON → questions with their context and gold
answers (every unusable one a counted skip), answers as word spans, and the training rows of
google-research/bert's `run_squad.py`: `[CLS] question [SEP] context window [SEP]`, the question cut to
`max_query_length` pieces, the context in windows every `doc_stride` pieces, and the answer's first
and last piece as targets (both 0, the [CLS], when the window does not hold the whole answer or the
question has none).

Answers are read at word granularity, as `run_squad.py` maps them back to its whitespace tokens; our
words are `tagging_data.word_spans` (punctuation apart), so an answer never drags a comma along.

Example:
    >>> answer_words([(0, 3), (4, 9), (10, 15)], 4, 15)
    (1, 2)
    >>> qa_rows([7], [[8], [9, 10]], (1, 1), max_seq_length=7, max_query_length=4, doc_stride=2,
    ...         cls_id=101, sep_id=102)
    [([101, 7, 102, 8, 9, 10, 102], 3, 4, 5)]
"""

from __future__ import annotations

import collections
import json
import logging
from typing import NamedTuple

from bert_tf.core import storage
from bert_tf.finetuning.tagging_data import windows, word_spans

log = logging.getLogger(__name__)


class Question(NamedTuple):
    id: str
    question: str
    context: str
    answers: list[tuple[str, int]]  # (text, character offset in context); [] when unanswerable


def _check(qa: dict, context: str) -> str | None:
    """Why one SQuAD question cannot be used, or None."""
    if not context.strip():
        return "empty_context"
    if not str(qa.get("question", "")).strip():
        return "empty_question"
    for answer in qa.get("answers", []):
        text, start = answer.get("text"), answer.get("answer_start")
        if not isinstance(text, str) or not isinstance(start, int):
            return "answer_without_text_or_offset"
        if context[start : start + len(text)] != text:
            return "answer_offset_does_not_match_text"
    if not qa.get("answers") and not qa.get("is_impossible"):
        return "no_answer_and_not_marked_impossible"
    return None


def read_squad(path: str) -> tuple[list[Question], dict[str, int]]:
    """Every question of a SQuAD v1.1/v2.0 JSON file (`.bz2/.gz` allowed); unusable ones are counted
    by reason and logged. ValueError when the file is not SQuAD JSON or nothing is usable."""
    with storage.open_text(path) as f:
        try:
            articles = json.load(f)["data"]
        except (ValueError, KeyError, TypeError) as error:
            raise ValueError(f"{path}: not SQuAD JSON (an object with a 'data' list): {error}")
    questions, skipped = [], collections.Counter()
    for paragraph in (p for article in articles for p in article.get("paragraphs", [])):
        context = str(paragraph.get("context", ""))
        for qa in paragraph.get("qas", []):
            reason = _check(qa, context)
            if reason:
                skipped[reason] += 1
                continue
            answers = [(a["text"], a["answer_start"]) for a in qa.get("answers", [])]
            qid = str(qa.get("id", len(questions)))
            questions.append(Question(qid, qa["question"], context, answers))
    if skipped:
        log.warning("%s: skipped questions %s", path, dict(skipped))
    if not questions:
        raise ValueError(f"{path}: no usable questions (skipped: {dict(skipped)})")
    return questions, dict(skipped)


def answer_words(spans: list[tuple[int, int]], start: int, end: int) -> tuple[int, int] | None:
    """(first, last) index of the words that overlap the answer's characters [start, end), or None
    when no word does (an answer of spaces)."""
    inside = [
        i for i, (word_start, word_end) in enumerate(spans) if word_start < end and word_end > start
    ]
    return (inside[0], inside[-1]) if inside else None


def first_answer_words(question: Question) -> tuple[int, int] | None:
    """The training target of a question: its first gold answer as word indices (None: no answer)."""
    if not question.answers:
        return None
    text, start = question.answers[0]
    return answer_words(word_spans(question.context), start, start + len(text))


def qa_rows(
    question_pieces: list[int],
    pieces_per_word: list[list[int]],
    answer: tuple[int, int] | None,
    max_seq_length: int,
    max_query_length: int,
    doc_stride: int,
    cls_id: int,
    sep_id: int,
) -> list[tuple[list[int], int, int, int]]:
    """(ids, first context position, start target, end target) of every window of one question."""
    question_pieces = question_pieces[:max_query_length]
    pieces = [piece for word in pieces_per_word for piece in word]
    length = max_seq_length - len(question_pieces) - 3
    if length < 1:
        raise ValueError(f"max_seq_length {max_seq_length} leaves no room for a context window")
    first_piece = [0]
    for word in pieces_per_word:
        first_piece.append(first_piece[-1] + len(word))
    target = None
    if answer is not None and first_piece[answer[1] + 1] > first_piece[answer[0]]:
        target = (first_piece[answer[0]], first_piece[answer[1] + 1] - 1)
    rows, offset = [], len(question_pieces) + 2
    for start, end in windows(len(pieces), length, min(doc_stride, length)):
        ids = [cls_id, *question_pieces, sep_id, *pieces[start:end], sep_id]
        inside = target is not None and start <= target[0] and target[1] < end
        positions = (target[0] - start + offset, target[1] - start + offset) if inside else (0, 0)
        rows.append((ids, offset, *positions))
    return rows
