"""Weights from google-research/bert's TF1 checkpoints (`bert_model.ckpt` + `bert_config.json`) into
our pre-training model, so the published BERT checkpoints can be exported, fine-tuned or trained
further.

The TF1 graph stores attention projections as [hidden, hidden] matrices; keras-hub's attention
layers hold them per head ([hidden, heads, head_dim], output [heads, head_dim, hidden]) and the NSP
weights as [hidden, 2] (TF1: `output_weights` [2, hidden]). `weight_map` lists every (TF1 name, our
weight path, reshape) triple; `load_google_weights` applies it and names whatever is missing or
misshapen.

Example:
    >>> [(g, ours) for g, ours, _ in weight_map(num_layers=1)][:1]
    [('bert/embeddings/word_embeddings', 'token_embedding/embeddings')]
"""

from __future__ import annotations

import os
from typing import Callable

import numpy as np
import tensorflow as tf

from bert_tf.core import outputs, storage
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_pretraining_model
from bert_tf.modeling.model_dir import new_model_dir

Transform = Callable[[np.ndarray, tuple], np.ndarray]


def _as_is(value: np.ndarray, shape: tuple) -> np.ndarray:
    return value


def _reshape(value: np.ndarray, shape: tuple) -> np.ndarray:
    return value.reshape(shape)


def _transpose(value: np.ndarray, shape: tuple) -> np.ndarray:
    return value.T


_EMBEDDINGS = [
    ("word_embeddings", "token_embedding/embeddings"),
    ("position_embeddings", "position_embedding/embeddings"),
    ("token_type_embeddings", "segment_embedding/embeddings"),
    ("LayerNorm/gamma", "embeddings_layer_norm/gamma"),
    ("LayerNorm/beta", "embeddings_layer_norm/beta"),
]
_LAYER = [
    ("attention/self/query/kernel", "self_attention_layer/query/kernel", _reshape),
    ("attention/self/query/bias", "self_attention_layer/query/bias", _reshape),
    ("attention/self/key/kernel", "self_attention_layer/key/kernel", _reshape),
    ("attention/self/key/bias", "self_attention_layer/key/bias", _reshape),
    ("attention/self/value/kernel", "self_attention_layer/value/kernel", _reshape),
    ("attention/self/value/bias", "self_attention_layer/value/bias", _reshape),
    ("attention/output/dense/kernel", "self_attention_layer/attention_output/kernel", _reshape),
    ("attention/output/dense/bias", "self_attention_layer/attention_output/bias", _as_is),
    ("attention/output/LayerNorm/gamma", "self_attention_layer_norm/gamma", _as_is),
    ("attention/output/LayerNorm/beta", "self_attention_layer_norm/beta", _as_is),
    ("intermediate/dense/kernel", "feedforward_intermediate_dense/kernel", _as_is),
    ("intermediate/dense/bias", "feedforward_intermediate_dense/bias", _as_is),
    ("output/dense/kernel", "feedforward_output_dense/kernel", _as_is),
    ("output/dense/bias", "feedforward_output_dense/bias", _as_is),
    ("output/LayerNorm/gamma", "feedforward_layer_norm/gamma", _as_is),
    ("output/LayerNorm/beta", "feedforward_layer_norm/beta", _as_is),
]
HEAD_WEIGHTS = [
    ("cls/predictions/transform/dense/kernel", "mlm_head/intermediate_dense/kernel", _as_is),
    ("cls/predictions/transform/dense/bias", "mlm_head/intermediate_dense/bias", _as_is),
    ("cls/predictions/transform/LayerNorm/gamma", "mlm_head/intermediate_layer_norm/gamma", _as_is),
    ("cls/predictions/transform/LayerNorm/beta", "mlm_head/intermediate_layer_norm/beta", _as_is),
    ("cls/predictions/output_bias", "mlm_head/output_bias", _as_is),
    ("cls/seq_relationship/output_weights", "nsp_head/kernel", _transpose),
    ("cls/seq_relationship/output_bias", "nsp_head/bias", _as_is),
]


def weight_map(num_layers: int) -> list[tuple[str, str, Transform]]:
    """Every backbone weight as (TF1 name, our weight path, transform); heads are in HEAD_WEIGHTS.
    Reshapes take the target's shape, so the head count comes from the model being filled."""
    out = [(f"bert/embeddings/{g}", ours, _as_is) for g, ours in _EMBEDDINGS]
    for i in range(num_layers):
        out += [
            (f"bert/encoder/layer_{i}/{g}", f"transformer_layer_{i}/{ours}", t)
            for g, ours, t in _LAYER
        ]
    out += [
        ("bert/pooler/dense/kernel", "pooled_dense/kernel", _as_is),
        ("bert/pooler/dense/bias", "pooled_dense/bias", _as_is),
    ]
    return out


def load_google_weights(reader, model, num_layers: int) -> list[str]:
    """Assigns a TF1 checkpoint's weights (`reader` = tf.train.load_checkpoint) to our pre-training
    model.

    Backbone weights are required; head weights are loaded when present (fine-tuned checkpoints lack
    them). Returns the names of the heads' weights that were absent (left at initialisation)."""
    available = reader.get_variable_to_shape_map()
    ours = {weight.path: weight for weight in model.weights}
    required = weight_map(num_layers)
    heads = [entry for entry in HEAD_WEIGHTS if entry[1] in ours]
    missing = [g for g, _, _ in required if g not in available]
    if missing:
        raise ValueError(
            f"checkpoint lacks {len(missing)} BERT weights, e.g. {missing[:3]} "
            f"(does bert_config.json match it?)"
        )
    absent_heads = [g for g, _, _ in heads if g not in available]
    for google_name, path, transform in required + [h for h in heads if h[0] in available]:
        target = ours[path]
        value = transform(reader.get_tensor(google_name), tuple(target.shape))
        if tuple(value.shape) != tuple(target.shape):
            raise ValueError(
                f"{google_name}: shape {tuple(value.shape)} does not fit {path} {tuple(target.shape)}"
            )
        target.assign(value.astype(target.dtype))
    return absent_heads


def is_google_checkpoint(prefix: str) -> bool:
    """Whether `prefix` is a google-research/bert TF1 checkpoint (its variables are named
    bert/...)."""
    return any(
        name == "bert/embeddings/word_embeddings" for name, _ in tf.train.list_variables(prefix)
    )


def load_google_model(prefix: str, bert_config: BertConfig):
    """(our pre-training model with a TF1 checkpoint's weights, the names of the head weights it
    lacks, which stay initialised)."""
    model = build_pretraining_model(bert_config, max_predictions_per_seq=1)
    absent = load_google_weights(
        tf.train.load_checkpoint(prefix), model, bert_config.num_hidden_layers
    )
    return model, absent


def convert(
    google_checkpoint: str,
    output_dir: str,
    bert_config_file: str | None = None,
    vocab_file: str | None = None,
) -> str:
    """Writes the model directory (new or empty: OutputError otherwise); returns a one-line
    summary."""
    beside = os.path.dirname(google_checkpoint)
    bert_config_file = bert_config_file or os.path.join(beside, "bert_config.json")
    vocab_file = vocab_file or os.path.join(beside, "vocab.txt")
    for path in (google_checkpoint + ".index", bert_config_file, vocab_file):
        if not storage.exists(path):
            raise FileNotFoundError(f"not found: {path}")
    outputs.require_new_or_empty(output_dir)
    config = BertConfig.from_json_file(bert_config_file)
    model, absent = load_google_model(google_checkpoint, config)
    saved = new_model_dir(output_dir, model, config, vocab_file)
    note = f"; heads left at initialisation (absent): {absent}" if absent else ""
    return f"converted {google_checkpoint} ({len(model.weights)} weights) → {saved}{note}"
