"""The vocabulary learner (pipelines/vocab_learning): the ceiling it gives tensorflow-text's threshold
search makes it faster and leaves the vocabulary as the library learns it on real text."""

import pytest

from pipelines import vocab_learning
from pipelines.vocab_learning import learn_vocab, reserved_tokens, search_ceiling


@pytest.fixture(scope="module")
def genesis(kjv_slice):
    with open(kjv_slice, encoding="utf-8") as f:
        return [line for line in f.read().splitlines() if line.strip()]


def _library_vocab(paragraphs, vocab_size, num_unused):
    """tensorflow-text's own recipe, with its own search bounds."""
    import tensorflow as tf
    from tensorflow_text.tools.wordpiece_vocab.bert_vocab_from_dataset import (
        bert_vocab_from_dataset,
    )

    dataset = tf.data.Dataset.from_tensor_slices(paragraphs).batch(1000)
    return bert_vocab_from_dataset(
        dataset, vocab_size, reserved_tokens(num_unused), {"lower_case": True}, {}
    )[:vocab_size]


def test_the_ceiling_leaves_the_vocabulary_as_the_library_learns_it(genesis):
    ceiling = search_ceiling({"a": 50, "b": 30, "c": 12}, pieces=2)
    assert ceiling == 120
    assert learn_vocab(genesis, 800, 10, True) == _library_vocab(genesis, 800, 10)


def test_a_ceiling_too_low_falls_back_to_the_whole_search(genesis, monkeypatch):
    # at a threshold of 11 Genesis keeps ≈ 800 pieces: far more than 300
    monkeypatch.setattr(vocab_learning, "search_ceiling", lambda counts, pieces: 11)
    assert learn_vocab(genesis, 300, 10, True) == _library_vocab(genesis, 300, 10)
