"""BERT with pre-LayerNorm blocks: the encoder the small-budget recipe trains from scratch.

Each block normalises its input before attention and before the feed-forward layer
(`x + f(LN(x))`, keras-hub's `TransformerEncoder(normalize_first=True)`) and one LayerNorm follows
the last block, as in GPT-2 and Cramming (Geiping & Goldstein 2022). Gradients then reach every
layer at the same scale, so the model takes a peak rate of 1e-3 without warmup tricks, where the
original post-LN blocks need a long warmup and a lower rate. Everything else — embeddings and their
LayerNorm, GELU, the tanh pooler on [CLS], the variable names — is keras-hub's `BertBackbone`, so
the MLM/NSP heads, export, serving and fine-tuning use it unchanged.

Written here because keras-hub's `BertBackbone` fixes post-LN blocks and has no final LayerNorm.
`bert_config.json` records the choice as `"pre_layer_norm": true`; formats that cannot express it
(google-research/bert, Hugging Face `BertModel`, keras-hub's `BertBackbone` preset) refuse it.

Example:
    >>> backbone = PreLayerNormBertBackbone(vocabulary_size=50, num_layers=1, num_heads=2,
    ...                                     hidden_dim=8, intermediate_dim=16)
    >>> [layer.name for layer in backbone.layers][-2:]
    ['final_layer_norm', 'pooled_dense']
"""

from __future__ import annotations

import keras
import keras_hub


def _initializer(stddev):
    return keras.initializers.TruncatedNormal(stddev=stddev)


def _gelu_tanh(x):
    return keras.activations.gelu(x, approximate=True)


@keras.saving.register_keras_serializable("bert_tf")
class PreLayerNormBertBackbone(keras_hub.models.Backbone):
    """keras-hub's `BertBackbone` with pre-LN blocks and a final LayerNorm: the same constructor
    arguments, inputs (`token_ids`, `segment_ids`, `padding_mask`) and outputs (`sequence_output`,
    `pooled_output`), plus `initializer_range`: the standard deviation every kernel and embedding
    starts at (bert_config.json's field; keras-hub fixes BERT's 0.02)."""

    def __init__(
        self,
        vocabulary_size,
        num_layers,
        num_heads,
        hidden_dim,
        intermediate_dim,
        dropout=0.1,
        max_sequence_length=512,
        num_segments=2,
        initializer_range=0.02,
        dtype=None,
        **kwargs,
    ):
        self.initializer_range = initializer_range
        self._make_layers(vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                          dropout, max_sequence_length, num_segments, dtype)  # fmt: skip
        inputs = {
            name: keras.Input(shape=(None,), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        tokens = self.token_embedding(inputs["token_ids"])
        x = tokens + self.position_embedding(tokens)
        x = self.embeddings_layer_norm(x + self.segment_embedding(inputs["segment_ids"]))
        x = self.embeddings_dropout(x)
        for block in self.transformer_layers:
            x = block(x, padding_mask=inputs["padding_mask"])
        x = self.final_layer_norm(x)
        outputs = {"sequence_output": x, "pooled_output": self.pooled_dense(x[:, 0, :])}
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.vocabulary_size, self.num_layers, self.num_heads = (
            vocabulary_size,
            num_layers,
            num_heads,
        )
        self.hidden_dim, self.intermediate_dim, self.dropout = hidden_dim, intermediate_dim, dropout
        self.max_sequence_length, self.num_segments = max_sequence_length, num_segments
        self.cls_token_index = 0

    def _make_layers(self, vocabulary_size, num_layers, num_heads, hidden_dim, intermediate_dim,
                     dropout, max_sequence_length, num_segments, dtype):  # fmt: skip
        """The layers, named as keras-hub's BertBackbone names them (+ `final_layer_norm`)."""
        layer = dict(dtype=dtype)
        self.embeddings_dropout = keras.layers.Dropout(dropout, name="embeddings_dropout", **layer)
        self.token_embedding = keras_hub.layers.ReversibleEmbedding(
            vocabulary_size, hidden_dim, embeddings_initializer=_initializer(self.initializer_range),
            name="token_embedding", **layer,
        )  # fmt: skip
        self.position_embedding = keras_hub.layers.PositionEmbedding(
            max_sequence_length,
            initializer=_initializer(self.initializer_range),
            name="position_embedding",
            **layer,
        )
        self.segment_embedding = keras.layers.Embedding(
            num_segments, hidden_dim, embeddings_initializer=_initializer(self.initializer_range),
            name="segment_embedding", **layer,
        )  # fmt: skip
        self.embeddings_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-12, name="embeddings_layer_norm", **layer
        )
        self.transformer_layers = [
            keras_hub.layers.TransformerEncoder(
                intermediate_dim,
                num_heads,
                dropout=dropout,
                activation=_gelu_tanh,
                layer_norm_epsilon=1e-12,
                kernel_initializer=_initializer(self.initializer_range),
                normalize_first=True,
                name=f"transformer_layer_{i}",
                **layer,
            )  # fmt: skip
            for i in range(num_layers)
        ]
        self.final_layer_norm = keras.layers.LayerNormalization(
            epsilon=1e-12, name="final_layer_norm", **layer
        )
        self.pooled_dense = keras.layers.Dense(
            hidden_dim, kernel_initializer=_initializer(self.initializer_range), activation="tanh",
            name="pooled_dense", **layer,
        )  # fmt: skip

    def get_config(self):
        names = ("vocabulary_size", "num_layers", "num_heads", "hidden_dim", "intermediate_dim")
        names += ("dropout", "max_sequence_length", "num_segments", "initializer_range")
        return {**super().get_config(), **{name: getattr(self, name) for name in names}}
