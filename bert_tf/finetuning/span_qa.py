"""Extractive question answering on top of the pre-trained encoder, as the BERT paper answers SQuAD:
one dense layer gives every token a start and an end logit; the answer is the best-scoring span of the
context.

The serving module holds the whole path in the TensorFlow graph, so the SavedModel needs no project
code: the context is split into words (`text_encoding.words_with_offsets`), words into wordpieces, the
question cut to `max_query_length` pieces; `[CLS] question [SEP] window [SEP]` rows cover the context
in windows every `doc_stride` pieces (`sliding_windows`). In each window every (start, end) is scored
as start logit + end logit, with the start a piece this window holds with the most context, start ≤
end and at most `max_answer_length` pieces (`span_answers.best_spans` states the rule; the graph
searches every pair, not only the n best). The best window's span is mapped back to whole words of the
context. With a `null_threshold` (SQuAD 2.0) the answer is "" when the smallest [CLS] score over the
windows beats the best span's by more than the threshold.

Example (fresh process, after `bert_tf.finetune --task=span_qa`):
    >>> qa = tf.saved_model.load("runs/qa/saved_model")  # doctest: +SKIP
    >>> qa.signatures["serving_default"](question=tf.constant(["Who wrote it?"]),
    ...                                  context=tf.constant(["It was written by Moses."]))["answer"]  # doctest: +SKIP
    <tf.Tensor: shape=(1,), dtype=string, numpy=array([b'Moses'], dtype=object)>
"""

from __future__ import annotations

import keras
import tensorflow as tf

from bert_tf.finetuning.sliding_windows import max_context, window_positions
from bert_tf.modeling.model import encode_inputs
from bert_tf.serving.text_encoding import TextEncoder, words_with_offsets

_NEG = -1e9  # the score of a span that may not be chosen


def build_span_qa(backbone) -> keras.Model:
    """Functional model: {input_word_ids, input_mask, input_type_ids} → {"start", "end"} logits
    [B, T] (float32), padding at -10,000. The [CLS] pooler gets no gradient and is frozen."""
    inputs, encoded = encode_inputs(backbone)
    logits = keras.layers.Dense(
        2,
        dtype="float32",
        name="span_qa",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
    )(encoded["sequence_output"])
    padding = (1.0 - keras.ops.cast(inputs["input_mask"], "float32")) * -10000.0
    start = keras.layers.Identity(name="start")(logits[..., 0] + padding)
    end = keras.layers.Identity(name="end")(logits[..., 1] + padding)
    backbone.get_layer("pooled_dense").trainable = False
    return keras.Model(inputs, {"start": start, "end": end}, name="bert_span_qa")


def best_span_per_window(start, end, allowed_start, max_answer_length: int):
    """[W, L] context logits (padded with _NEG) and [W, L] allowed starts → (score, start, end) [W]
    of each window's best span."""
    scores = start[:, :, None] + end[:, None, :]
    i = tf.range(tf.shape(start)[1])
    band = (i[None, :] >= i[:, None]) & (i[None, :] < i[:, None] + max_answer_length)
    valid = band[None] & allowed_start[:, :, None]
    scores = tf.where(valid, scores, _NEG)
    flat = tf.reshape(scores, [tf.shape(scores)[0], -1])
    best = tf.argmax(flat, axis=1, output_type=tf.int32)
    width = tf.shape(start)[1]
    return tf.reduce_max(flat, axis=1), best // width, best % width


def _gather_or(values, index, keep, fill):
    """values[index] where `keep`, else `fill` (also when `values` is empty)."""
    padded = tf.concat([values, tf.fill([1], tf.cast(fill, values.dtype))], axis=0)
    return tf.gather(padded, tf.where(keep, index, tf.size(values, tf.int64)))


class SpanQaServingModule(tf.Module):
    """`serving_default(question, context)` → answer, answer_start/answer_end (character offsets in
    the context, -1 without an answer), score (start + end logit) and null_score ([CLS])."""

    def __init__(
        self,
        model,
        encoder: TextEncoder,
        max_query_length: int,
        doc_stride: int,
        max_answer_length: int,
        null_threshold: float | None = None,
    ):
        super().__init__()
        if encoder.max_seq_length - max_query_length - 3 < 1:
            raise ValueError(
                f"max_seq_length {encoder.max_seq_length} leaves no context window after a "
                f"{max_query_length}-piece question: lower --max_query_length"
            )
        self.model, self.encoder = model, encoder
        self.max_query_length, self.doc_stride = max_query_length, doc_stride
        self.max_answer_length, self.null_threshold = max_answer_length, null_threshold

    def _windows(self, question, context):
        """The model's rows for every window, and where each window's context pieces come from."""
        words, word_starts, word_ends = words_with_offsets(context)
        word_pieces = self.encoder.wordpieces(words)  # [B, W, (p)]
        pieces = word_pieces.merge_dims(1, 2)
        query = self.encoder.wordpieces(question)[:, : self.max_query_length]
        length = self.encoder.max_seq_length - query.row_lengths() - 3
        positions, row = window_positions(pieces, length, tf.minimum(length, self.doc_stride))
        inputs = self.encoder.pack(tf.gather(query, row), tf.gather(pieces.flat_values, positions))
        piece_word = tf.repeat(
            tf.range(tf.size(words.flat_values, tf.int64)), word_pieces.values.row_lengths()
        )
        words = {"piece_word": piece_word, "starts": word_starts, "ends": word_ends}
        return inputs, positions, row, tf.gather(query.row_lengths(), row) + 2, words

    def _window_spans(self, logits, positions, first, n_pieces):
        """(score, start, end) of each window's best span, start/end as context piece indices."""
        at = tf.ragged.range(first, first + positions.row_lengths())
        start = tf.gather(logits["start"], at, batch_dims=1).to_tensor(_NEG)
        end = tf.gather(logits["end"], at, batch_dims=1).to_tensor(_NEG)
        allowed = max_context(positions, n_pieces).to_tensor(False)
        return best_span_per_window(start, end, allowed, self.max_answer_length)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name="question"),
            tf.TensorSpec([None], tf.string, name="context"),
        ]
    )
    def serve(self, question, context):
        context = tf.strings.unicode_transcode(context, "UTF-8", "UTF-8", errors="replace")
        inputs, positions, row, first, words = self._windows(question, context)
        logits = self.model(inputs, training=False)
        n_pieces = tf.size(words["piece_word"], tf.int64)
        score, i, j = self._window_spans(logits, positions, first, n_pieces)
        per_text = tf.RaggedTensor.from_value_rowids(score, row, nrows=tf.size(context, tf.int64))
        window = tf.argmax(per_text.to_tensor(2 * _NEG), axis=1) + per_text.row_starts()
        best = tf.gather(score, window)
        null_score = tf.math.segment_min(logits["start"][:, 0] + logits["end"][:, 0], row)
        has_answer = best > _NEG / 2
        if self.null_threshold is not None:
            has_answer &= null_score - best <= self.null_threshold
        window_start = tf.gather(positions.row_starts(), window)
        span = []
        for k, offsets in ((i, words["starts"]), (j, words["ends"])):
            piece = _gather_or(
                positions.flat_values,
                window_start + tf.cast(tf.gather(k, window), tf.int64),
                has_answer,
                0,
            )
            word = _gather_or(words["piece_word"], piece, has_answer, 0)
            span.append(_gather_or(offsets.flat_values, word, has_answer, -1))
        return self._answer(context, span[0], span[1], has_answer, best, null_score)

    @staticmethod
    def _answer(context, byte_start, byte_end, has_answer, score, null_score):
        text = tf.strings.substr(context, tf.maximum(byte_start, 0), byte_end - byte_start)

        def chars(n):
            return tf.strings.length(
                tf.strings.substr(context, tf.zeros_like(n), n), unit="UTF8_CHAR"
            )  # noqa: E731

        return {
            "answer": tf.where(has_answer, text, ""),
            "answer_start": tf.where(has_answer, chars(tf.maximum(byte_start, 0)), -1),
            "answer_end": tf.where(has_answer, chars(tf.maximum(byte_end, 0)), -1),
            "score": tf.where(has_answer, score, 0.0),
            "null_score": null_score,
        }
