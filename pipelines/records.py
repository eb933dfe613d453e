"""Sentence pairs + masks → padded feature values per record → serialized tf.train.Example
(schema: bert_tf.features).

`pack_pair` is pure Python; `feature_rows` turns a document's masked batch (bert_tf/masking.py) into
one dict of value lists per record with one `tolist` per feature; only `to_example_bytes` touches
protobuf.

Example:
    >>> from pipelines.instances import SentencePair
    >>> tokens, segments = pack_pair(SentencePair([7, 8], [9], False), cls_id=2, sep_id=3)
    >>> tokens, segments
    ([2, 7, 8, 3, 9, 3], [0, 0, 0, 0, 1, 1])
"""

from __future__ import annotations

import numpy as np

from bert_tf import features as schema
from pipelines.instances import SentencePair
from bert_tf.masking import MaskedBatch


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
) -> dict[str, list]:
    """The features every record has, as one list of values per row."""
    return {
        "input_ids": input_ids.tolist(),
        "input_mask": (np.arange(input_ids.shape[1]) < lengths[:, None]).astype(np.int64).tolist(),
        "segment_ids": segment_ids.tolist(),
        "next_sentence_labels": [
            [schema.NEXT_SENTENCE_IS_RANDOM if random_next else schema.NEXT_SENTENCE_IS_NEXT]
            for random_next in is_random_next
        ],
    }


def _rows(columns: dict[str, list]) -> list[dict[str, list]]:
    names = [name for name in schema.FEATURE_NAMES if name in columns]
    return [dict(zip(names, values)) for values in zip(*(columns[name] for name in names))]


def feature_rows(
    masked: MaskedBatch, segment_ids: np.ndarray, is_random_next: list[bool]
) -> list[dict[str, list]]:
    """One dict of zero-padded values per sequence, for every schema feature; padded prediction
    slots get weight 0."""
    predicted = np.arange(masked.positions.shape[1]) < masked.counts[:, None]
    return _rows(
        {
            **_sequence_columns(masked.input_ids, masked.lengths, segment_ids, is_random_next),
            "masked_lm_positions": masked.positions.tolist(),
            "masked_lm_ids": masked.label_ids.tolist(),
            "masked_lm_weights": predicted.astype(np.float32).tolist(),
        }
    )


def unmasked_feature_rows(
    input_ids: np.ndarray, lengths: np.ndarray, segment_ids: np.ndarray, is_random_next: list[bool]
) -> list[dict[str, list]]:
    """The dynamic-masking records: the pairs without masks (bert_tf masks them when reading)."""
    return _rows(_sequence_columns(input_ids, lengths, segment_ids, is_random_next))


def to_example_bytes(features: dict[str, list]) -> bytes:
    """Serializes feature values as a tf.train.Example (map entries sorted: the same bytes in every
    process)."""
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example()
    for name, values in features.items():
        feature = example.features.feature[name]
        (feature.float_list if name in schema.FLOAT_FEATURES else feature.int64_list).value.extend(
            values
        )
    return example.SerializeToString(deterministic=True)
