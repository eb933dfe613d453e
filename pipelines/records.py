"""Sentence pairs + masks → padded feature values per record → serialized tf.train.Example
(schema: bert_tf.core.features).

`pack_pair` is pure Python; `feature_columns` turns a document's masked batch (bert_tf/core/masking.py)
into one array per feature, a row per record, which pipelines/example_encoding.py serializes.

Example:
    >>> from pipelines.instances import SentencePair
    >>> tokens, segments = pack_pair(SentencePair([7, 8], [9], False), cls_id=2, sep_id=3)
    >>> tokens, segments
    ([2, 7, 8, 3, 9, 3], [0, 0, 0, 0, 1, 1])
"""

from __future__ import annotations

import numpy as np

from bert_tf.core import features as schema
from bert_tf.core.masking import MaskedBatch
from pipelines.instances import SentencePair


def pack_pair(pair: SentencePair, cls_id: int, sep_id: int) -> tuple[list[int], list[int]]:
    """`[CLS] A [SEP] B [SEP]` (or `[CLS] A [SEP]` when B is empty) and its segment ids."""
    tokens = [cls_id, *pair.tokens_a, sep_id]
    segments = [0] * len(tokens)
    if pair.tokens_b:
        tokens += [*pair.tokens_b, sep_id]
        segments += [1] * (len(pair.tokens_b) + 1)
    return tokens, segments


def _sequence_columns(
    input_ids: np.ndarray, lengths: np.ndarray, segment_ids: np.ndarray, is_random_next: list[bool]
) -> dict[str, np.ndarray]:
    """The features every record has, one row per record."""
    return {
        "input_ids": input_ids,
        "input_mask": (np.arange(input_ids.shape[1]) < lengths[:, None]).astype(np.int64),
        "segment_ids": segment_ids,
        "next_sentence_labels": np.where(
            np.asarray(is_random_next, bool),
            schema.NEXT_SENTENCE_IS_RANDOM,
            schema.NEXT_SENTENCE_IS_NEXT,
        )[:, None],
    }


def feature_columns(
    masked: MaskedBatch, segment_ids: np.ndarray, is_random_next: list[bool]
) -> dict[str, np.ndarray]:
    """Every schema feature as one zero-padded row per sequence; padded prediction slots get
    weight 0."""
    predicted = np.arange(masked.positions.shape[1]) < masked.counts[:, None]
    return {
        **_sequence_columns(masked.input_ids, masked.lengths, segment_ids, is_random_next),
        "masked_lm_positions": masked.positions,
        "masked_lm_ids": masked.label_ids,
        "masked_lm_weights": predicted.astype(np.float32),
    }


def unmasked_feature_columns(
    input_ids: np.ndarray, lengths: np.ndarray, segment_ids: np.ndarray, is_random_next: list[bool]
) -> dict[str, np.ndarray]:
    """The dynamic-masking records: the pairs without masks (bert_tf masks them when reading)."""
    return _sequence_columns(input_ids, lengths, segment_ids, is_random_next)
