"""The pre-training model: keras-hub's BertBackbone + masked-LM head (tied to the word embeddings,
with output bias) + next-sentence head on the backbone's tanh pooler (docs/recipe.md §5). Keras 3
functional.

Heads run in float32 whatever the global dtype policy (keras-hub's MLM head adds a float32 bias and
fails on bfloat16 logits; losses need float32 anyway).

Example:
    >>> from bert_tf.modeling.config import BertConfig
    >>> model = build_pretraining_model(BertConfig.named("tiny", vocab_size=100), max_predictions_per_seq=3)
    >>> sorted(model.output.keys())  # doctest: +SKIP
    ['mlm_logits', 'nsp_logits']
"""

from __future__ import annotations

import keras
import keras_hub
import numpy as np
import tensorflow as tf

from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.pre_layer_norm import PreLayerNormBertBackbone

# Names of the model inputs = TFRecord feature names (bert_tf.core.features).
MODEL_INPUTS = ("input_ids", "input_mask", "segment_ids", "masked_lm_positions")


@keras.saving.register_keras_serializable("bert_tf")
def gelu_tanh(x):
    """The original BERT's GELU: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable("bert_tf")
class MaskedLMHead(keras_hub.layers.MaskedLMHead):
    """keras-hub's MaskedLMHead (same weights and names), gathering the masked positions with int32
    indices. keras' `ops.take_along_axis`, which keras-hub's head gathers with, transposes int64
    indices on TensorFlow, and an int64 op is what makes oneDNN log an `E0000 ... util.cc:131]
    oneDNN supports DT_INT64 only on platforms with AVX-512` line in every run that executes it."""

    def call(self, inputs, mask_positions):
        x = tf.gather(inputs, tf.cast(mask_positions, tf.int32), batch_dims=1)
        x = self._intermediate_layer_norm(self._intermediate_dense(x))
        if self.token_embedding:
            logits = self.token_embedding(x, reverse=True)
        else:
            logits = keras.ops.matmul(x, self._kernel)
        logits = keras.ops.cast(logits, self.compute_dtype) + self._bias
        return self.activation(logits) if self.activation is not None else logits


def build_backbone(config: BertConfig, dtype_policy: str = "float32") -> keras_hub.models.Backbone:
    """Token + segment + learned position embeddings, post-LN encoder blocks, GELU, tanh pooler.

    `dtype_policy` "mixed_bfloat16"/"mixed_float16" computes in 16 bits with float32 variables.
    `config.pre_layer_norm` builds pre-LN blocks instead (bert_tf/modeling/pre_layer_norm.py)."""
    backbone_class, extra = keras_hub.models.BertBackbone, {}
    if config.pre_layer_norm:
        backbone_class, extra = (
            PreLayerNormBertBackbone,
            {"initializer_range": config.initializer_range},
        )
    return backbone_class(
        vocabulary_size=config.vocab_size,
        num_layers=config.num_hidden_layers,
        num_heads=config.num_attention_heads,
        hidden_dim=config.hidden_size,
        intermediate_dim=config.intermediate_size,
        dropout=config.hidden_dropout_prob,
        max_sequence_length=config.max_position_embeddings,
        num_segments=config.type_vocab_size,
        dtype=dtype_policy,
        name="bert",
        **extra,
    )


def backbone_inputs(input_ids, input_mask, segment_ids) -> dict:
    """Exactly the three keys BertBackbone expects (an extra key can silently mis-bind tensors)."""
    return {"token_ids": input_ids, "segment_ids": segment_ids, "padding_mask": input_mask}


def encode_inputs(backbone) -> tuple[dict, dict]:
    """(Keras inputs {input_word_ids, input_mask, input_type_ids} int32 [B, T], the backbone's
    outputs on them): the start of every fine-tuning model."""
    inputs = {
        name: keras.Input(shape=(None,), dtype="int32", name=name)
        for name in ("input_word_ids", "input_mask", "input_type_ids")
    }
    ids, mask, types = (inputs[k] for k in ("input_word_ids", "input_mask", "input_type_ids"))
    return inputs, backbone(backbone_inputs(ids, mask, types))


def build_pretraining_model(
    config: BertConfig,
    max_predictions_per_seq: int,
    next_sentence_prediction: bool = True,
    dtype_policy: str = "float32",
) -> keras.Model:
    """Functional model: dict of MODEL_INPUTS (int32) → {'mlm_logits', 'nsp_logits'} (float32
    heads)."""
    backbone = build_backbone(config, dtype_policy)
    inputs = {
        name: keras.Input(
            shape=(max_predictions_per_seq if name == "masked_lm_positions" else None,),
            dtype="int32",
            name=name,
        )
        for name in MODEL_INPUTS
    }
    encoded = backbone(
        backbone_inputs(inputs["input_ids"], inputs["input_mask"], inputs["segment_ids"])
    )
    initializer = keras.initializers.TruncatedNormal(stddev=config.initializer_range)
    mlm_head = MaskedLMHead(
        token_embedding=backbone.token_embedding,
        # The original's tanh-approximate GELU (keras.activations.gelu defaults to the exact erf form).
        intermediate_activation=gelu_tanh,
        layer_norm_epsilon=1e-12,
        kernel_initializer=initializer,
        dtype="float32",
        name="mlm_head",
    )
    sequence_output = keras.ops.cast(encoded["sequence_output"], "float32")
    outputs = {
        "mlm_logits": mlm_head(sequence_output, mask_positions=inputs["masked_lm_positions"])
    }
    if next_sentence_prediction:
        pooled_output = keras.ops.cast(encoded["pooled_output"], "float32")
        outputs["nsp_logits"] = keras.layers.Dense(
            2, kernel_initializer=initializer, dtype="float32", name="nsp_head"
        )(pooled_output)
    return keras.Model(inputs, outputs, name="bert_pretraining")


def backbone_of(model: keras.Model) -> keras_hub.models.Backbone:
    return model.get_layer("bert")


def sinusoidal_positions(length: int, width: int, std: float = 0.02) -> np.ndarray:
    """[length, width] sines and cosines of geometric wavelengths (Vaswani et al. 2017), scaled to
    `std`: a start for learned position embeddings in which positions already differ smoothly, so a
    model trained from scratch need not first discover word order from random vectors.

    >>> table = sinusoidal_positions(512, 128)
    >>> table.shape, round(float(table.std()), 3), bool(table[0, 1] > 0 and table[0, 0] == 0)
    ((512, 128), 0.02, True)
    """
    half = width // 2
    angles = np.arange(length)[:, None] / 10_000 ** (np.arange(half)[None, :] / half)
    table = np.zeros((length, width), np.float32)
    table[:, 0 : 2 * half : 2], table[:, 1 : 2 * half : 2] = np.sin(angles), np.cos(angles)
    return table * (std / table.std())


def start_positions_sinusoidal(model: keras.Model, std: float = 0.02) -> None:
    """Sets the backbone's learned position embeddings to `sinusoidal_positions` at `std` (the
    config's initializer_range) in a fresh model."""
    embedding = backbone_of(model).position_embedding.position_embeddings
    embedding.assign(sinusoidal_positions(*embedding.shape, std=std))
