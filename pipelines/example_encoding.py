"""Many tf.train.Examples serialized at once with NumPy: the protobuf wire format written directly,
byte for byte what `Example.SerializeToString(deterministic=True)` gives for the same features.

Why hand-written: building one protobuf message per record (a `tolist` and an `extend` per feature,
then `SerializeToString`) was the largest single cost of the pipeline after tokenization — ≈ 30 µs
a record, an eighth of its CPU time. Here the varints of a whole batch are made by a few array
operations, and each record costs a handful of byte concatenations. Only what the pre-training
schema needs is supported: int64 features with non-negative values and float32 features, every
feature a fixed-width row per record.

Example:
    >>> import numpy as np
    >>> from tensorflow.core.example import example_pb2
    >>> (record,) = serialize_examples(
    ...     {"input_ids": np.array([[101, 7592, 102]]), "weights": np.array([[1.0, 0.0]], np.float32)}
    ... )
    >>> example_pb2.Example.FromString(record).features.feature["input_ids"].int64_list.value
    [101, 7592, 102]
"""

from __future__ import annotations

import numpy as np

# Field tags (field number << 3 | wire type 2 = length-delimited) of the messages in
# tensorflow/core/example/{example,feature}.proto.
_EXAMPLE_FEATURES = b"\x0a"  # Example.features = 1
_FEATURES_ENTRY = b"\x0a"  # Features.feature = 1 (map<string, Feature>)
_ENTRY_KEY, _ENTRY_VALUE = b"\x0a", b"\x12"
_FLOAT_LIST, _INT64_LIST = b"\x12", b"\x1a"  # Feature.float_list = 2, int64_list = 3
_PACKED_VALUES = b"\x0a"  # FloatList.value = 1 / Int64List.value = 1, packed


def varint(number: int) -> bytes:
    """The protobuf base-128 varint of a non-negative int.

    >>> varint(1), varint(300)
    (b'\\x01', b'\\xac\\x02')
    """
    out = bytearray()
    while number >= 0x80:
        out.append(number & 0x7F | 0x80)
        number >>= 7
    out.append(number)
    return bytes(out)


def _split(data: bytes, lengths: np.ndarray) -> list[bytes]:
    ends = np.cumsum(lengths).tolist()
    return [data[start:end] for start, end in zip([0, *ends[:-1]], ends)]


def packed_varints(rows: np.ndarray) -> list[bytes]:
    """Each row of a 2-D array of non-negative ints as concatenated varints.

    >>> packed_varints(np.array([[1, 300], [0, 2]]))
    [b'\\x01\\xac\\x02', b'\\x00\\x02']
    """
    if rows.size and rows.min() < 0:
        raise ValueError("negative int64 feature values are not supported (10-byte varints)")
    values = rows.astype(np.uint64)
    groups = max(1, -(-int(values.max(initial=0)).bit_length() // 7))
    shifted = values[..., None] >> (np.arange(groups, dtype=np.uint64) * np.uint64(7))
    used = np.ones(shifted.shape, bool)
    used[..., 1:] = shifted[..., 1:] > 0  # byte k of a value exists if its bits from 7k on are set
    more = np.zeros(shifted.shape, np.uint64)
    more[..., :-1] = used[..., 1:]  # continuation bit: another byte follows
    digits = ((shifted & np.uint64(0x7F)) | (more << np.uint64(7))).astype(np.uint8)
    return _split(digits[used].tobytes(), used.reshape(len(rows), -1).sum(axis=1))


def _packed_floats(rows: np.ndarray) -> list[bytes]:
    data = np.ascontiguousarray(rows, dtype="<f4")
    return _split(data.tobytes(), np.full(len(rows), data.shape[1] * 4))


def _feature(list_tag: bytes, packed: bytes) -> bytes:
    """A Feature holding one Int64List/FloatList (an empty list is an empty message)."""
    values = _PACKED_VALUES + varint(len(packed)) + packed if packed else b""
    return list_tag + varint(len(values)) + values


def serialize_examples(columns: dict[str, np.ndarray]) -> list[bytes]:
    """One serialized tf.train.Example per row: `columns` maps feature name → 2-D array (records ×
    width), float32 arrays as FloatList, integer arrays as Int64List. Map entries sorted by name,
    as protobuf's deterministic serialization: the same bytes in every process."""
    per_feature = []
    for name in sorted(columns):
        rows = columns[name]
        is_float = np.issubdtype(rows.dtype, np.floating)
        payloads = _packed_floats(rows) if is_float else packed_varints(rows)
        key = _ENTRY_KEY + varint(len(name.encode())) + name.encode()
        tag = _FLOAT_LIST if is_float else _INT64_LIST
        per_feature.append((key, tag, payloads))
    records = []
    for row in range(len(per_feature[0][2]) if per_feature else 0):
        features = bytearray()
        for key, tag, payloads in per_feature:
            feature = _feature(tag, payloads[row])
            entry = key + _ENTRY_VALUE + varint(len(feature)) + feature
            features += _FEATURES_ENTRY + varint(len(entry)) + entry
        records.append(_EXAMPLE_FEATURES + varint(len(features)) + bytes(features))
    return records
