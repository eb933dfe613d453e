"""Packing, the padded feature values (the TFRecord layout) and their serialization."""

import numpy as np
import tensorflow as tf

from bert_tf.core import features as schema
from bert_tf.core.masking import MaskedBatch, padded_rows
from pipelines.example_encoding import serialize_examples
from pipelines.instances import SentencePair
from pipelines.records import feature_columns, pack_pair, unmasked_feature_columns


def test_pack_pair_layout_and_segments():
    tokens, segments = pack_pair(SentencePair([7, 8], [9, 10, 11], True), cls_id=2, sep_id=3)
    assert tokens == [2, 7, 8, 3, 9, 10, 11, 3]
    assert segments == [
        0,
        0,
        0,
        0,
        1,
        1,
        1,
        1,
    ]  # 0 through the first [SEP], 1 for B and the last [SEP]


def test_pack_without_b():
    assert pack_pair(SentencePair([7], [], False), 2, 3) == ([2, 7, 3], [0, 0, 0])


def test_features_are_zero_padded_with_zero_weights():
    masked = MaskedBatch(
        np.array([[2, 4, 8, 3, 9, 3, 0, 0]]),
        np.array([6]),
        np.array([[1, 4, 0]]),
        np.array([[7, 9, 0]]),
        np.array([2]),
    )
    columns = feature_columns(masked, padded_rows([[0, 0, 0, 0, 1, 1]], 8), [True])
    assert sorted(columns) == sorted(schema.FEATURE_NAMES)
    features = {name: values[0].tolist() for name, values in columns.items()}
    assert features["input_ids"] == [2, 4, 8, 3, 9, 3, 0, 0]
    assert features["input_mask"] == [1, 1, 1, 1, 1, 1, 0, 0]
    assert features["segment_ids"] == [0, 0, 0, 0, 1, 1, 0, 0]
    assert features["masked_lm_positions"] == [1, 4, 0]
    assert features["masked_lm_ids"] == [7, 9, 0]
    assert features["masked_lm_weights"] == [1.0, 1.0, 0.0]
    assert features["next_sentence_labels"] == [1]  # 1 = B is random


def test_unmasked_features_have_no_prediction_slots():
    columns = unmasked_feature_columns(
        padded_rows([[2, 5, 3]], 4), np.array([3]), padded_rows([[0, 0, 0]], 4), [False]
    )
    assert {name: values[0].tolist() for name, values in columns.items()} == {
        "input_ids": [2, 5, 3, 0],
        "input_mask": [1, 1, 1, 0],
        "segment_ids": [0, 0, 0, 0],
        "next_sentence_labels": [0],
    }


def test_serialized_example_parses_to_the_features_with_the_schema_dtypes():
    masked = MaskedBatch(
        np.array([[2, 4, 30521, 3, 9, 3, 0, 0]]),
        np.array([6]),
        np.array([[1, 2, 0]]),
        np.array([[7, 9, 0]]),
        np.array([2]),
    )
    columns = feature_columns(masked, padded_rows([[0, 0, 0, 0, 1, 1]], 8), [False])
    (record,) = serialize_examples(columns)
    parsed = tf.io.parse_single_example(record, schema.parse_spec(8, 3))
    for name, values in columns.items():
        assert parsed[name].dtype == (tf.float32 if name in schema.FLOAT_FEATURES else tf.int64)
        np.testing.assert_array_equal(parsed[name].numpy(), values[0])
