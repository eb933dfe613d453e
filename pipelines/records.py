"""Sentence pair + masks → padded feature lists → serialized tf.train.Example (schema: bert_tf.features).

`pack_pair` and `to_features` are pure Python over lists (cheaper per instance than small NumPy
arrays); only `to_example_bytes` touches protobuf.

Example:
    >>> from pipelines.instances import SentencePair
    >>> tokens, segments = pack_pair(SentencePair([7, 8], [9], False), cls_id=2, sep_id=3)
    >>> tokens, segments
    ([2, 7, 8, 3, 9, 3], [0, 0, 0, 0, 1, 1])
"""

from __future__ import annotations

from bert_tf import features as schema
from pipelines.instances import SentencePair
from pipelines.masking import MaskedSequence


def pack_pair(pair: SentencePair, cls_id: int, sep_id: int) -> tuple[list[int], list[int]]:
    """`[CLS] A [SEP] B [SEP]` (or `[CLS] A [SEP]` when B is empty) and its segment ids."""
    tokens = [cls_id, *pair.tokens_a, sep_id]
    segments = [0] * len(tokens)
    if pair.tokens_b:
        tokens += [*pair.tokens_b, sep_id]
        segments += [1] * (len(pair.tokens_b) + 1)
    return tokens, segments


def _padded(values: list, length: int) -> list:
    if len(values) > length:
        raise ValueError(f"{len(values)} values do not fit in length {length}")
    return values + [0] * (length - len(values))


def _nsp_label(is_random_next: bool) -> list[int]:
    return [schema.NEXT_SENTENCE_IS_RANDOM if is_random_next else schema.NEXT_SENTENCE_IS_NEXT]


def to_features(masked: MaskedSequence, segment_ids: list[int], is_random_next: bool,
                max_seq_length: int, max_predictions_per_seq: int) -> dict[str, list]:
    """Zero-padded values for every schema feature; padded prediction slots get weight 0."""
    lengths = schema.feature_lengths(max_seq_length, max_predictions_per_seq)
    values = {
        "input_ids": masked.input_ids,
        "input_mask": [1] * len(masked.input_ids),
        "segment_ids": segment_ids,
        "masked_lm_positions": masked.positions,
        "masked_lm_ids": masked.label_ids,
        "masked_lm_weights": [1.0] * len(masked.positions),
        "next_sentence_labels": _nsp_label(is_random_next),
    }
    return {name: _padded(values[name], lengths[name]) for name in schema.FEATURE_NAMES}


def to_unmasked_features(tokens: list[int], segment_ids: list[int], is_random_next: bool,
                         max_seq_length: int) -> dict[str, list]:
    """The dynamic-masking record: the pair without masks (bert_tf masks it when reading)."""
    lengths = schema.feature_lengths(max_seq_length, 0, masked=False)
    values = {"input_ids": tokens, "input_mask": [1] * len(tokens), "segment_ids": segment_ids,
              "next_sentence_labels": _nsp_label(is_random_next)}
    return {name: _padded(values[name], lengths[name]) for name in lengths}


def to_example_bytes(features: dict[str, list]) -> bytes:
    """Serializes feature values as a tf.train.Example (map entries sorted: the same bytes in every process)."""
    from tensorflow.core.example import example_pb2

    example = example_pb2.Example()
    for name, values in features.items():
        feature = example.features.feature[name]
        (feature.float_list if name in schema.FLOAT_FEATURES else feature.int64_list).value.extend(values)
    return example.SerializeToString(deterministic=True)
