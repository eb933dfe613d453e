"""The NumPy tf.train.Example encoder against protobuf's own deterministic serialization."""

import numpy as np
import pytest
from tensorflow.core.example import example_pb2

from pipelines.example_encoding import packed_varints, serialize_examples, varint


def protobuf_bytes(columns, row):
    example = example_pb2.Example()
    for name, values in columns.items():
        feature = example.features.feature[name]
        target = feature.float_list if values.dtype.kind == "f" else feature.int64_list
        target.value.extend(values[row].tolist())
    return example.SerializeToString(deterministic=True)


@pytest.mark.parametrize("seed", range(5))
def test_records_equal_protobufs_serialization_byte_for_byte(seed):
    rng = np.random.default_rng(seed)
    rows = 37
    top = [1, 128, 16_384, 30_522, 2**21, 2**40, 2**62][seed % 7 :] + [2]
    columns = {
        "input_ids": rng.integers(0, top[0], (rows, 128)),
        "segment_ids": rng.integers(0, 2, (rows, 128)).astype(np.int32),
        "masked_lm_positions": rng.integers(0, 128, (rows, 20)),
        "masked_lm_weights": rng.random((rows, 20)).astype(np.float32),
        "next_sentence_labels": rng.integers(0, 2, (rows, 1)),
        "zeros": np.zeros((rows, 3), np.int64),
        "negative_zero_and_specials": np.array([[-0.0, np.inf, 1e-40]] * rows, np.float32),
    }
    ours = serialize_examples(dict(reversed(columns.items())))  # map order must not matter
    assert ours == [protobuf_bytes(columns, row) for row in range(rows)]
    assert example_pb2.Example.FromString(ours[3]).features.feature[
        "input_ids"
    ].int64_list.value == (columns["input_ids"][3].tolist())


def test_varints_at_every_byte_boundary():
    values = [0, 1, 127, 128, 16_383, 16_384, 2**21 - 1, 2**21, 2**35, 2**63 - 1]
    assert packed_varints(np.array([values])) == [b"".join(varint(v) for v in values)]
    assert varint(2**63 - 1) == bytes([0xFF] * 8 + [0x7F])


def test_negative_ids_are_refused_not_mis_encoded():
    with pytest.raises(ValueError, match="negative"):
        packed_varints(np.array([[3, -1]]))
