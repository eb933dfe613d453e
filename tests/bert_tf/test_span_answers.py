"""The pure parts of extractive QA: the official SQuAD normalisation and scores, and run_squad.py's
answer search with its SQuAD 2.0 null-answer rule."""

import pytest

from bert_tf.finetuning.span_answers import (
    answer_exact,
    answer_f1,
    best_spans,
    choose_answer,
    normalize_answer,
    squad_scores,
)


def test_official_normalisation_and_scores():
    assert normalize_answer("An  apple, a day!") == "apple day"
    assert answer_exact("the Denver Broncos", ["Denver Broncos", "Broncos"]) == 1.0
    assert answer_f1("Denver", ["Denver Broncos", "Broncos"]) == pytest.approx(2 / 3)
    assert answer_f1("", [""]) == 1.0 and answer_f1("Broncos", [""]) == 0.0  # SQuAD 2.0
    scores = squad_scores(
        {"q1": "Denver Broncos", "q2": "a cat"}, {"q1": ["Broncos"], "q2": ["dog"], "q3": ["x"]}
    )
    assert scores["exact_match"] == pytest.approx(0.0)
    assert scores["f1"] == pytest.approx(100 * (2 / 3) / 3)  # q3 unanswered scores 0
    with pytest.raises(ValueError, match="no questions"):
        squad_scores({}, {})


def test_span_search_keeps_to_the_context_order_length_and_max_context():
    start = [9.0, 0, 4, 3, 0]  # [CLS] has the highest start: never a span
    end = [9.0, 0, 1, 5, 2]
    context = range(1, 5)
    assert best_spans(start, end, context, n_best=3, max_answer_length=5)[0] == (9.0, 2, 3)
    assert all(
        e - s + 1 <= 1 for _, s, e in best_spans(start, end, context, 5, max_answer_length=1)
    )
    assert all(s <= e for _, s, e in best_spans(start, end, context, 5, 5))
    not_max = [True, True, False, True, True]
    assert best_spans(start, end, context, 3, 5, max_context=not_max)[0] == (8.0, 3, 3)


def test_null_answer_wins_only_past_the_threshold():
    spans = [(5.0, 2, 3), (7.0, 1, 1)]
    assert choose_answer(spans, null_score=None) == (7.0, 1, 1)
    assert choose_answer(spans, null_score=8.0) is None
    assert choose_answer(spans, null_score=8.0, null_threshold=1.5) == (7.0, 1, 1)
    assert choose_answer([], null_score=None) is None
