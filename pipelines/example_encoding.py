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
    values = rows.astype(np.uint64, copy=False).ravel()
    groups = max(1, -(-int(values.max(initial=0)).bit_length() // 7))
    if groups == 1:  # every value < 128 is its own one-byte varint (masks, segments, positions)
        return _split(values.astype(np.uint8).tobytes(), np.full(len(rows), rows.shape[1]))
    sizes = np.ones(values.shape, np.int64)  # bytes of each value's varint
    for k in range(1, groups):
        sizes += values >= np.uint64(1 << (7 * k))
    offsets = np.cumsum(sizes) - sizes
    data = np.empty(int(sizes.sum()), np.uint8)
    row_lengths = sizes.reshape(rows.shape).sum(axis=1)
    remaining, at = values, offsets
    for k in range(groups):  # byte k of every value that has one
        more = sizes > k + 1
        data[at] = (remaining & np.uint64(0x7F)) | (more.astype(np.uint64) << np.uint64(7))
        if not more.any():
            break
        sizes, remaining, at = sizes[more], remaining[more] >> np.uint64(7), at[more] + 1
    return _split(data.tobytes(), row_lengths)


def _packed_floats(rows: np.ndarray) -> list[bytes]:
    data = np.ascontiguousarray(rows, dtype="<f4")
    return _split(data.tobytes(), np.full(len(rows), data.shape[1] * 4))


def _entry_prefix(name: str, is_float: bool, packed_length: int) -> bytes:
    """Everything of one Features map entry before its packed values (an empty list is an empty
    message)."""
    key = _ENTRY_KEY + varint(len(name.encode())) + name.encode()
    values_header = _PACKED_VALUES + varint(packed_length) if packed_length else b""
    values = len(values_header) + packed_length
    feature = (_FLOAT_LIST if is_float else _INT64_LIST) + varint(values) + values_header
    entry = key + _ENTRY_VALUE + varint(len(feature) + packed_length) + feature
    return _FEATURES_ENTRY + varint(len(entry) + packed_length) + entry


def serialize_examples(columns: dict[str, np.ndarray]) -> list[bytes]:
    """One serialized tf.train.Example per row: `columns` maps feature name → 2-D array (records ×
    width), float32 arrays as FloatList, integer arrays as Int64List. Map entries sorted by name,
    as protobuf's deterministic serialization: the same bytes in every process."""
    names = sorted(columns)
    if not names:
        return []
    records = len(columns[names[0]])
    floats = [name for name in names if np.issubdtype(columns[name].dtype, np.floating)]
    payloads = {
        name: _packed_floats(columns[name]) if name in floats else packed_varints(columns[name])
        for name in names
    }
    prefixes: dict[tuple[str, int], bytes] = {}
    out = []
    for row in range(records):
        parts = []
        for name in names:
            packed = payloads[name][row]
            prefix = prefixes.get((name, len(packed)))
            if prefix is None:
                prefix = prefixes[name, len(packed)] = _entry_prefix(
                    name, name in floats, len(packed)
                )
            parts += (prefix, packed)
        features = b"".join(parts)
        out.append(_EXAMPLE_FEATURES + varint(len(features)) + features)
    return out
