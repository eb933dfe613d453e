"""The exported object: a trained pre-training model plus the in-graph text encoder, with the
signatures of docs/recipe.md §7. It saves with `tf.saved_model.save` and serves from a process that
imports only tensorflow + tensorflow_text.

Signatures (all batch-first; strings are UTF-8, invalid bytes are replaced, never an error):
- `serving_default(text, text_b)` → pooled_output [B, H], sequence_output [B, T, H], input_mask [B,
  T]. `text_b` holds the second segment of each pair; "" (or an empty `text_b` batch) = single text.
- `encode(input_word_ids, input_mask, input_type_ids)` → pooled_output, sequence_output.
- `fill_mask(text)` → for each "[MASK]" in the text (up to the truncation): mask_positions [B, M]
  (-1 = padding), top_ids/top_tokens/top_probabilities [B, M, k].
- `next_sentence(text_a, text_b)` → is_next_probability [B] (only for models trained with NSP).

Example (fresh process):
    >>> bert = tf.saved_model.load("runs/tiny/saved_model")  # doctest: +SKIP
    >>> bert.signatures["fill_mask"](text=tf.constant(["paris is the [MASK] of france."]))["top_tokens"]  # doctest: +SKIP
"""

from __future__ import annotations

import tensorflow as tf

from bert_tf.core.vocab import read_tokens
from bert_tf.modeling.model import backbone_inputs, backbone_of
from bert_tf.serving.text_encoding import TextEncoder, second_texts_or_empty


def _strings_spec(name: str) -> tf.TensorSpec:
    return tf.TensorSpec([None], tf.string, name=name)


def _ids_spec(name: str) -> tf.TensorSpec:
    return tf.TensorSpec([None, None], tf.int32, name=name)


class BertServingModule(tf.Module):
    """Backbone + MLM head (+ NSP head) + TextEncoder; `signatures()` lists what to export."""

    def __init__(
        self,
        pretraining_model,
        vocab_file: str,
        max_seq_length: int,
        lower_case: bool = True,
        top_k: int = 5,
    ):
        super().__init__()
        self.backbone = backbone_of(pretraining_model)
        self.mlm_head = pretraining_model.get_layer("mlm_head")
        layer_names = {layer.name for layer in pretraining_model.layers}
        self.nsp_head = (
            pretraining_model.get_layer("nsp_head") if "nsp_head" in layer_names else None
        )
        if self.nsp_head is not None:  # only then: saving traces every tf.function attribute
            self.next_sentence = tf.function(
                self._next_sentence,
                input_signature=[_strings_spec("text_a"), _strings_spec("text_b")],
            )
        self.encoder = TextEncoder(vocab_file, max_seq_length, lower_case)
        tokens = read_tokens(vocab_file)
        self.vocab = tf.constant(tokens)
        if not 1 <= top_k <= len(tokens):
            raise ValueError(f"top_k must be in [1, vocab size], got {top_k}")
        self.top_k = top_k

    def _outputs(self, ids, mask, segments) -> dict:
        encoded = self.backbone(backbone_inputs(ids, mask, segments), training=False)
        return {
            "pooled_output": tf.cast(encoded["pooled_output"], tf.float32),
            "sequence_output": tf.cast(encoded["sequence_output"], tf.float32),
        }

    @tf.function(
        input_signature=[
            _ids_spec("input_word_ids"),
            _ids_spec("input_mask"),
            _ids_spec("input_type_ids"),
        ]
    )
    def encode(self, input_word_ids, input_mask, input_type_ids):
        return self._outputs(input_word_ids, input_mask, input_type_ids)

    @tf.function(input_signature=[_strings_spec("text"), _strings_spec("text_b")])
    def serve_text(self, text, text_b):
        inputs = self.encoder.encode(text, second_texts_or_empty(text, text_b))
        return {
            **self._outputs(
                inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
            ),
            "input_mask": inputs["input_mask"],
        }

    @tf.function(input_signature=[_strings_spec("text")])
    def fill_mask(self, text):
        inputs = self.encoder.pack(self.encoder.wordpieces_with_masks(text))
        ids = inputs["input_word_ids"]
        sequence = self._outputs(ids, inputs["input_mask"], inputs["input_type_ids"])[
            "sequence_output"
        ]
        is_mask = tf.equal(ids, self.encoder.mask_id)
        grid = tf.broadcast_to(tf.range(tf.shape(ids)[1]), tf.shape(ids))
        positions = tf.ragged.boolean_mask(grid, is_mask)
        valid = tf.ones_like(positions, tf.bool).to_tensor(default_value=False)
        positions = positions.to_tensor(default_value=0)
        probabilities = tf.nn.softmax(
            tf.cast(self.mlm_head(sequence, mask_positions=positions), tf.float32)
        )
        top = tf.math.top_k(probabilities, k=self.top_k)
        valid_k = tf.expand_dims(valid, -1)
        return {
            "mask_positions": tf.where(valid, positions, -1),
            "top_ids": tf.where(valid_k, top.indices, -1),
            "top_tokens": tf.where(valid_k, tf.gather(self.vocab, top.indices), ""),
            "top_probabilities": tf.where(valid_k, top.values, 0.0),
        }

    def _next_sentence(self, text_a, text_b):
        inputs = self.encoder.encode(text_a, text_b)
        pooled = self._outputs(
            inputs["input_word_ids"], inputs["input_mask"], inputs["input_type_ids"]
        )
        logits = tf.cast(self.nsp_head(pooled["pooled_output"]), tf.float32)
        return {
            "is_next_probability": tf.nn.softmax(logits)[:, 0]
        }  # label 0 = IsNext (docs/recipe.md §4)

    def signatures(self) -> dict:
        signatures = {
            "serving_default": self.serve_text,
            "encode": self.encode,
            "fill_mask": self.fill_mask,
        }
        if self.nsp_head is not None:
            signatures["next_sentence"] = self.next_sentence
        return signatures
