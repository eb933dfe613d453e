"""google-research/bert's TF1 checkpoint format, written from NumPy: the names and shapes of its
modeling.py for a bert_config, saved with SaveV2 as TF1's Saver does (tests only).

    >>> sorted(tf1_shapes({"vocab_size": 8, "hidden_size": 4, "num_hidden_layers": 1,
    ...                    "intermediate_size": 16, "max_position_embeddings": 8}))[:2]
    ['bert/embeddings/LayerNorm/beta', 'bert/embeddings/LayerNorm/gamma']
"""

from __future__ import annotations

import json
import pathlib

import numpy as np


def tiny_config(vocab_size: int, max_position_embeddings: int) -> dict:
    """A bert_config.json of a tiny model (2 layers of width 16) in google-research/bert's format."""
    return dict(
        vocab_size=vocab_size,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=max_position_embeddings,
        type_vocab_size=2,
        hidden_act="gelu",
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        initializer_range=0.02,
    )


def tf1_shapes(config: dict) -> dict[str, tuple]:
    """The TF1 variable names and shapes of modeling.py's BertModel + pre-training heads for `config`."""
    hidden, vocab = config["hidden_size"], config["vocab_size"]
    inter, layers = config["intermediate_size"], config["num_hidden_layers"]
    shapes = {
        "bert/embeddings/word_embeddings": (vocab, hidden),
        "bert/embeddings/position_embeddings": (config["max_position_embeddings"], hidden),
        "bert/embeddings/token_type_embeddings": (2, hidden),
        "bert/embeddings/LayerNorm/gamma": (hidden,),
        "bert/embeddings/LayerNorm/beta": (hidden,),
        "bert/pooler/dense/kernel": (hidden, hidden),
        "bert/pooler/dense/bias": (hidden,),
        "cls/predictions/transform/dense/kernel": (hidden, hidden),
        "cls/predictions/transform/dense/bias": (hidden,),
        "cls/predictions/transform/LayerNorm/gamma": (hidden,),
        "cls/predictions/transform/LayerNorm/beta": (hidden,),
        "cls/predictions/output_bias": (vocab,),
        "cls/seq_relationship/output_weights": (2, hidden),
        "cls/seq_relationship/output_bias": (2,),
    }
    for i in range(layers):
        p = f"bert/encoder/layer_{i}/"
        for name in ("query", "key", "value"):
            shapes[p + f"attention/self/{name}/kernel"] = (hidden, hidden)
            shapes[p + f"attention/self/{name}/bias"] = (hidden,)
        shapes.update(
            {
                p + "attention/output/dense/kernel": (hidden, hidden),
                p + "attention/output/dense/bias": (hidden,),
                p + "attention/output/LayerNorm/gamma": (hidden,),
                p + "attention/output/LayerNorm/beta": (hidden,),
                p + "intermediate/dense/kernel": (hidden, inter),
                p + "intermediate/dense/bias": (inter,),
                p + "output/dense/kernel": (inter, hidden),
                p + "output/dense/bias": (hidden,),
                p + "output/LayerNorm/gamma": (hidden,),
                p + "output/LayerNorm/beta": (hidden,),
            }
        )
    return shapes


def write_google_checkpoint(directory, config: dict, vocab: list[str], seed: int, scale=0.5):
    """DIRECTORY/{bert_model.ckpt, bert_config.json, vocab.txt} as google-research/bert publishes
    them, with normal(0, scale) weights; returns (checkpoint prefix, {name: value})."""
    import tensorflow as tf

    directory = pathlib.Path(directory)
    rng = np.random.default_rng(seed)
    weights = {
        name: rng.normal(0, scale, shape).astype(np.float32)
        for name, shape in tf1_shapes(config).items()
    }
    weights["global_step"] = np.int64(1000)
    names = sorted(weights)
    tf.raw_ops.SaveV2(
        prefix=str(directory / "bert_model.ckpt"),
        tensor_names=names,
        shape_and_slices=[""] * len(names),
        tensors=[weights[n] for n in names],
    )
    (directory / "bert_config.json").write_text(json.dumps(config))
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    return str(directory / "bert_model.ckpt"), weights
