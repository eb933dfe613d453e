"""Extractive QA as pure Python/NumPy: the answer search over start/end logits (google-research/bert's
`run_squad.py`: n-best starts × n-best ends, inside the context, in order, at most
`max_answer_length` pieces, each piece read from the window where it has the most context, and for
SQuAD 2.0 the null answer when its score beats the best span by more than a threshold) and the official
SQuAD evaluation (exact match and F1 after lower-casing and removing punctuation, articles and extra
white space; the best over the gold answers; an unanswerable question's gold answer is "").

Example:
    >>> normalize_answer("The  Eiffel Tower!")
    'eiffel tower'
    >>> round(answer_f1("the tower in Paris", ["Eiffel Tower"]), 3)
    0.4
    >>> best_spans([0.0, 1, 5, 1], [0.0, 1, 2, 6], context=range(1, 4), n_best=2, max_answer_length=3)
    [(11.0, 2, 3), (7.0, 2, 2)]
"""

from __future__ import annotations

import collections
import re
import string
from typing import Sequence

import numpy as np

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")


def normalize_answer(text: str) -> str:
    """The official evaluation's normalisation: lower case, no punctuation, no articles, single
    spaces."""
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    return " ".join(_ARTICLES.sub(" ", text).split())


def _f1(predicted: str, gold: str) -> float:
    predicted_tokens, gold_tokens = (
        normalize_answer(predicted).split(),
        normalize_answer(gold).split(),
    )
    if not predicted_tokens or not gold_tokens:  # SQuAD 2.0: "" is right only against ""
        return float(predicted_tokens == gold_tokens)
    common = sum(
        (collections.Counter(predicted_tokens) & collections.Counter(gold_tokens)).values()
    )
    if not common:
        return 0.0
    precision, recall = common / len(predicted_tokens), common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def answer_f1(predicted: str, golds: Sequence[str]) -> float:
    """Token F1 against the best-matching gold answer (golds [""] for an unanswerable question)."""
    return max(_f1(predicted, gold) for gold in golds or [""])


def answer_exact(predicted: str, golds: Sequence[str]) -> float:
    return max(float(normalize_answer(predicted) == normalize_answer(g)) for g in golds or [""])


def squad_scores(predicted: dict[str, str], golds: dict[str, list[str]]) -> dict[str, float]:
    """Exact match and F1 in percent over every question of `golds` (a question without a prediction
    scores 0), as the official script reports them."""
    if not golds:
        raise ValueError("no questions to evaluate")
    answered = [(predicted[qid], answers) for qid, answers in golds.items() if qid in predicted]
    exact = [answer_exact(text, answers) for text, answers in answered]
    f1 = [answer_f1(text, answers) for text, answers in answered]
    exact, f1 = (np.sum(values) / len(golds) for values in (exact, f1))
    return {"exact_match": 100 * float(exact), "f1": 100 * float(f1)}


def best_spans(
    start_logits: Sequence[float],
    end_logits: Sequence[float],
    context: range,
    n_best: int,
    max_answer_length: int,
    max_context: Sequence[bool] | None = None,
) -> list[tuple[float, int, int]]:
    """The `n_best` highest-scoring (start logit + end logit, start, end) spans of one window, end
    inclusive, from its `n_best` best starts and ends; both inside `context` (the window's context
    pieces), start ≤ end, at most `max_answer_length` pieces, and the start a piece this window holds
    with the most context (`max_context[i]`, all true when omitted)."""
    start_logits, end_logits = np.asarray(start_logits), np.asarray(end_logits)
    starts = np.argsort(-start_logits, kind="stable")[:n_best]
    ends = np.argsort(-end_logits, kind="stable")[:n_best]
    spans = [
        (float(start_logits[s] + end_logits[e]), int(s), int(e))
        for s in starts
        for e in ends
        if s in context
        and e in context
        and s <= e < s + max_answer_length
        and (max_context is None or max_context[s])
    ]
    return sorted(spans, key=lambda span: -span[0])[:n_best]


def choose_answer(
    spans: list[tuple[float, int, int]], null_score: float | None, null_threshold: float = 0.0
) -> tuple[float, int, int] | None:
    """The best span, or None (no answer) when there is none or when, for SQuAD 2.0 (`null_score`
    given: the smallest [CLS] start + end logit over the windows), the null score beats the best span's
    by more than `null_threshold`."""
    if not spans:
        return None
    best = max(spans, key=lambda span: span[0])
    if null_score is not None and null_score - best[0] > null_threshold:
        return None
    return best
