"""Sliding windows over wordpieces in the TensorFlow graph, for the SavedModels that tag words or
answer questions over texts longer than the model's sequence: windows of at most `length` pieces
every `stride` pieces, and each piece read from the window where it has the most context.
`tagging_data.windows` and `tagging_data.best_window` are the pure statement of both rules.

Example:
    >>> window_starts(tf.constant([10], tf.int64), 4, 2).to_list()
    [[0, 2, 4, 6]]
"""

from __future__ import annotations

import tensorflow as tf

from bert_tf.serving.text_encoding import concat_rows


def window_starts(n_pieces, length, stride) -> tf.RaggedTensor:
    """[B] piece counts → [B, (windows)] first pieces: every `stride` pieces, plus one window that
    ends at the last piece when the regular ones fall short. `length` and `stride` are scalars or
    one per row."""
    length = tf.broadcast_to(tf.cast(length, tf.int64), tf.shape(n_pieces))
    stride = tf.broadcast_to(tf.cast(stride, tf.int64), tf.shape(n_pieces))
    regular = tf.maximum(n_pieces - length, 0) // stride + 1
    short = (regular - 1) * stride + length < n_pieces
    extra = tf.RaggedTensor.from_row_lengths(
        tf.boolean_mask(n_pieces - length, short), tf.cast(short, tf.int64)
    )
    regular_starts = tf.ragged.range(regular) * tf.expand_dims(stride, 1)
    return concat_rows([regular_starts, extra])


def window_positions(pieces: tf.RaggedTensor, length, stride):
    """[B, (P)] pieces → (positions [windows, (pieces)] as indices into pieces.flat_values,
    row [windows] of the text each window comes from)."""
    starts = window_starts(pieces.row_lengths(), length, stride)
    ends = tf.minimum(
        starts + tf.expand_dims(tf.broadcast_to(tf.cast(length, tf.int64), [pieces.nrows()]), 1),
        tf.expand_dims(pieces.row_lengths(), 1),
    )
    offsets = tf.expand_dims(pieces.row_starts(), 1)
    positions = tf.ragged.range((starts + offsets).flat_values, (ends + offsets).flat_values)
    return positions, starts.value_rowids()


def max_context(positions: tf.RaggedTensor, n_pieces) -> tf.RaggedTensor:
    """[windows, (pieces)] → True where this window is the piece's max-context window: the most
    pieces on its nearer side, ties to the earlier window (`run_squad.py`'s rule)."""
    window, flat = positions.value_rowids(), positions.flat_values
    first = tf.gather(tf.concat([flat, [0]], axis=0), positions.row_starts())  # (empty windows)
    last = first + positions.row_lengths() - 1
    context = tf.minimum(flat - tf.gather(first, window), tf.gather(last, window) - flat)
    key = context * (positions.nrows() + 1) - window
    best = tf.math.unsorted_segment_max(key, flat, n_pieces)
    return positions.with_flat_values(tf.equal(key, tf.gather(best, flat)))
