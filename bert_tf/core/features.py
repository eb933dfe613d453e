"""THE pre-training TFRecord schema (docs/recipe.md §4); the pipeline writes it and the trainer
reads it.

Compatible with google-research/bert and the TF Model Garden: the same feature names, int64 ids and
float32 weights, zero padding, and `next_sentence_labels` 1 = B is random (NotNext), 0 = IsNext.

Example:
    >>> sorted(feature_lengths(128, 20).items())[0]
    ('input_ids', 128)
"""

from __future__ import annotations

import numpy as np

# In the original scripts' order (the order records are written in).
FEATURE_NAMES = (
    "input_ids",
    "input_mask",
    "segment_ids",
    "masked_lm_positions",
    "masked_lm_ids",
    "masked_lm_weights",
    "next_sentence_labels",
)
FLOAT_FEATURES = ("masked_lm_weights",)
INT64_FEATURES = tuple(name for name in FEATURE_NAMES if name not in FLOAT_FEATURES)
NEXT_SENTENCE_IS_RANDOM = 1
NEXT_SENTENCE_IS_NEXT = 0


def feature_lengths(
    max_seq_length: int, max_predictions_per_seq: int, masked: bool = True
) -> dict[str, int]:
    """Fixed length of every feature. `masked=False`: the dynamic-masking records, which have no
    masked_lm_* features (the trainer masks them when reading, bert_tf/training/dynamic_masking.py)."""
    per_sequence = {name: max_seq_length for name in ("input_ids", "input_mask", "segment_ids")}
    per_prediction = (
        {
            name: max_predictions_per_seq
            for name in ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")
        }
        if masked
        else {}
    )
    return {**per_sequence, **per_prediction, "next_sentence_labels": 1}


def feature_dtype(name: str):
    return np.float32 if name in FLOAT_FEATURES else np.int64


def parse_spec(max_seq_length: int, max_predictions_per_seq: int, masked: bool = True) -> dict:
    """`tf.io.parse_example` spec for the schema (or the unmasked dynamic-masking schema)."""
    import tensorflow as tf

    return {
        name: tf.io.FixedLenFeature([length], tf.float32 if name in FLOAT_FEATURES else tf.int64)
        for name, length in feature_lengths(max_seq_length, max_predictions_per_seq, masked).items()
    }
