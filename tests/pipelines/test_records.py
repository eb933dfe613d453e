"""Packing and the padded feature arrays (SPEC §4 layout), pure NumPy."""

import numpy as np

from pipelines.instances import SentencePair
from pipelines.masking import MaskedSequence
from pipelines.records import pack_pair, to_features


def test_pack_pair_layout_and_segments():
    tokens, segments = pack_pair(SentencePair([7, 8], [9, 10, 11], True), cls_id=2, sep_id=3)
    assert tokens == [2, 7, 8, 3, 9, 10, 11, 3]
    assert segments == [0, 0, 0, 0, 1, 1, 1, 1]  # 0 through the first [SEP], 1 for B and the last [SEP]


def test_pack_without_b():
    assert pack_pair(SentencePair([7], [], False), 2, 3) == ([2, 7, 3], [0, 0, 0])


def test_features_are_zero_padded_with_zero_weights():
    masked = MaskedSequence([2, 4, 8, 3, 9, 3], [1, 4], [7, 9])
    features = to_features(masked, [0, 0, 0, 0, 1, 1], True, max_seq_length=8, max_predictions_per_seq=3)
    assert features["input_ids"].tolist() == [2, 4, 8, 3, 9, 3, 0, 0]
    assert features["input_mask"].tolist() == [1, 1, 1, 1, 1, 1, 0, 0]
    assert features["segment_ids"].tolist() == [0, 0, 0, 0, 1, 1, 0, 0]
    assert features["masked_lm_positions"].tolist() == [1, 4, 0]
    assert features["masked_lm_ids"].tolist() == [7, 9, 0]
    assert features["masked_lm_weights"].tolist() == [1.0, 1.0, 0.0]
    assert features["next_sentence_labels"].tolist() == [1]  # 1 = B is random
    assert features["masked_lm_weights"].dtype == np.float32 and features["input_ids"].dtype == np.int64
