"""The pure parts of token tagging: CoNLL reading, first-piece labels, windows and their joining, and
entity scores as seqeval / conlleval define them (reference values from seqeval's own README)."""

import pytest

from bert_tf.finetuning.tagging_data import (
    best_window,
    check_sentence,
    first_piece_labels,
    parse_conll,
    windows,
)
from bert_tf.finetuning.tagging_metrics import entities, entity_scores


def test_scores_match_seqevals_published_example():
    gold = [["O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    predicted = [["O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"], ["B-PER", "I-PER", "O"]]
    scores = entity_scores(gold, predicted)
    assert (scores["precision"], scores["recall"], scores["f1"]) == (0.5, 0.5, 0.5)
    assert scores["token_accuracy"] == 8 / 10  # seqeval's accuracy_score: 0.80


def test_entities_follow_conllevals_chunk_rules():
    assert entities(["I-PER", "I-PER", "O"]) == {("PER", 0, 2)}  # I- after O starts a chunk
    assert entities(["B-PER", "I-LOC"]) == {("PER", 0, 1), ("LOC", 1, 2)}  # a type change splits
    assert entities(["B-PER", "B-PER"]) == {("PER", 0, 1), ("PER", 1, 2)}
    assert entities(["S-PER", "B-LOC", "E-LOC", "O"]) == {("PER", 0, 1), ("LOC", 1, 3)}
    assert entities(["O", "O"]) == set()
    assert entity_scores([["O"]], [["O"]])["f1"] == 0.0
    with pytest.raises(ValueError, match="sentence 0: 2 gold tags but 1 predicted"):
        entity_scores([["O", "O"]], [["O"]])


def test_conll_reading_keeps_sentences_and_counts_bad_lines():
    lines = ["-DOCSTART- -X- -X- O", "", "EU NNP B-NP B-ORG", "rejects VBZ B-VP O", "", "", "x"]
    sentences, skipped = parse_conll(lines)
    assert sentences == [(["EU", "rejects"], ["B-ORG", "O"])] and skipped["line_without_tag"] == 1
    assert check_sentence(["a", "b"], ["O"]) == "tag_count_differs_from_word_count"
    assert check_sentence([], []) == "no_words" and check_sentence(["a"], ["O"]) is None


def test_first_piece_labels_and_windows_cover_every_word_once():
    assert first_piece_labels([1, 3, 0, 2], [5, 6, 7, 8], ignore=-1) == [5, 6, -1, -1, 8, -1]
    for n, length, stride in [(3, 4, 2), (10, 4, 2), (11, 4, 3), (100, 16, 5), (16, 16, 16)]:
        spans = windows(n, length, stride)
        assert spans[0][0] == 0 and spans[-1][1] == n
        assert all(end - start <= length for start, end in spans)
        chosen = [best_window(spans, position) for position in range(n)]
        assert all(spans[w][0] <= p < spans[w][1] for p, w in enumerate(chosen))
    spans = windows(10, length=4, stride=2)
    assert [best_window(spans, p) for p in range(10)] == [0, 0, 0, 1, 1, 2, 2, 3, 3, 3]
    with pytest.raises(ValueError, match="stride in 1..4"):
        windows(10, length=4, stride=5)
