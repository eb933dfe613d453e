"""Token tagging on top of the pre-trained encoder, as the BERT paper tags named entities: one dense
layer over each final token vector, a word's tag read at its first wordpiece.

The serving module holds the whole path in the TensorFlow graph, so the SavedModel needs no project
code: raw text is split into words (`text_encoding.words_with_offsets`), words
into wordpieces; a sentence longer than the model's sequence is cut into windows of
max_seq_length − 2 pieces every `stride` pieces, and each piece is read from the window where it has
the most context (`sliding_windows`).

Example (fresh process, after `bert_tf.finetune --task=tagging`):
    >>> tagger = tf.saved_model.load("runs/case/saved_model")  # doctest: +SKIP
    >>> tagger.signatures["serving_default"](text=tf.constant(["john lives in paris ."]))["tags"]  # doctest: +SKIP
    <tf.Tensor: shape=(1, 5), dtype=string, numpy=array([[b'CAP', b'O', b'O', b'CAP', b'O']], dtype=object)>
"""

from __future__ import annotations

import keras
import tensorflow as tf

from bert_tf.finetuning.sliding_windows import max_context, window_positions
from bert_tf.modeling.model import encode_inputs
from bert_tf.serving.text_encoding import TextEncoder, words_with_offsets


def build_tagger(backbone, num_tags: int, dropout: float = 0.1) -> keras.Model:
    """Functional model: {input_word_ids, input_mask, input_type_ids} → tag logits [B, T, tags]
    (float32). The [CLS] pooler gets no gradient from tagging and is frozen."""
    inputs, encoded = encode_inputs(backbone)
    vectors = keras.layers.Dropout(dropout)(encoded["sequence_output"])
    logits = keras.layers.Dense(
        num_tags,
        dtype="float32",
        name="tagger",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
    )(vectors)
    backbone.get_layer("pooled_dense").trainable = False
    return keras.Model(inputs, logits, name="bert_tagger")


def tagging_loss() -> keras.losses.Loss:
    """Softmax cross-entropy averaged over the pieces that carry a tag (sample weight 1)."""
    return keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    )


class TaggerServingModule(tf.Module):
    """`serving_default(text)` → words, word_starts/word_ends (UTF-8 byte offsets), tags,
    probabilities, word_count; `tag_words(words)` (a [B, W] batch of pre-split words, "" as padding)
    → tags, probabilities, word_count. A word that tokenizes to no wordpiece gets `default_tag` with
    probability 0."""

    def __init__(
        self,
        tagger: keras.Model,
        encoder: TextEncoder,
        tag_names: list[str],
        stride: int,
        default_tag: str,
    ):
        super().__init__()
        self.tagger, self.encoder = tagger, encoder
        self.tag_names = tf.constant(tag_names)
        self.default_tag = tf.constant(default_tag)
        self.length = encoder.max_seq_length - 2
        self.stride = min(stride, self.length)

    def piece_logits(self, pieces: tf.RaggedTensor) -> tf.Tensor:
        """[B, (P)] wordpiece ids → [all P, tags] logits, each from the piece's max-context window."""
        positions, _ = window_positions(pieces, self.length, self.stride)
        logits = self.tagger(
            self.encoder.pack(tf.gather(pieces.flat_values, positions)), training=False
        )
        logits = tf.RaggedTensor.from_tensor(logits[:, 1:], lengths=positions.row_lengths())
        n_pieces = tf.size(pieces.flat_values, tf.int64)
        chosen = max_context(positions, n_pieces).flat_values
        return tf.math.unsorted_segment_sum(
            tf.boolean_mask(logits.flat_values, chosen),
            tf.boolean_mask(positions.flat_values, chosen),
            n_pieces,
        )

    def tag(self, words: tf.RaggedTensor) -> dict:
        """[B, (W)] words → tags, probabilities (padded with "" and 0) and word_count."""
        word_pieces = self.encoder.wordpieces(words)  # [B, W, (pieces)]; invalid UTF-8 replaced
        probabilities = tf.nn.softmax(self.piece_logits(word_pieces.merge_dims(1, 2)))
        n_pieces = tf.shape(probabilities, tf.int64)[0]
        has_piece = word_pieces.values.row_lengths() > 0
        probabilities = tf.concat([probabilities, tf.zeros_like(probabilities[:1])], axis=0)
        first = tf.where(has_piece, word_pieces.values.row_starts(), n_pieces)  # else: the zero row
        first_probs = tf.gather(probabilities, first)
        best = tf.argmax(first_probs, axis=-1)
        tags = tf.where(has_piece, tf.gather(self.tag_names, best), self.default_tag)
        probability = tf.where(has_piece, tf.reduce_max(first_probs, axis=-1), 0.0)
        return {
            "tags": words.with_flat_values(tags).to_tensor(""),
            "probabilities": words.with_flat_values(probability).to_tensor(0.0),
            "word_count": tf.cast(words.row_lengths(), tf.int32),
        }

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.string, name="words")])
    def tag_words(self, words):
        ragged = tf.RaggedTensor.from_tensor(words, padding="")
        return self.tag(ragged)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve(self, text):
        words, starts, ends = words_with_offsets(text)
        return {
            **self.tag(words),
            "words": words.to_tensor(""),
            "word_starts": tf.cast(starts.to_tensor(-1), tf.int32),
            "word_ends": tf.cast(ends.to_tensor(-1), tf.int32),
        }
