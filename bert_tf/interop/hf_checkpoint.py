"""Weights from a Hugging Face BERT checkpoint directory (config.json + model.safetensors +
vocab.txt) into our pre-training model, through keras-hub's own converter
(`BertBackbone.from_preset(directory)`).

keras-hub converts the encoder (embeddings, every block, the pooler) exactly; it has no converter
for the pre-training heads, so the few `cls.*` tensors a full BERT checkpoint carries
(`BertForPreTraining`, `BertForMaskedLM`) are mapped here: the MLM transform (dense + LayerNorm),
the MLM output bias (the output matrix is tied to the word embeddings, as in our model) and the NSP
classifier. Heads the checkpoint lacks (e.g. sentence-transformers checkpoints such as
all-MiniLM-L6-v2) start fresh.

Only the original BERT architecture is accepted; `check_hf_config` refuses other variants (relative
positions, other activations, more segment types, other LayerNorm epsilon) in one line, because
keras-hub's BertBackbone would silently compute something else.

Example:
    >>> check_hf_config({"model_type": "bert", "vocab_size": 30522, "hidden_size": 384,
    ...     "num_hidden_layers": 6, "num_attention_heads": 12, "intermediate_size": 1536}).hidden_size
    384
"""

from __future__ import annotations

import json
import os

import numpy as np

from bert_tf.core import outputs
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import backbone_of, build_pretraining_model
from bert_tf.modeling.model_dir import new_model_dir

# HF config key → the value of original BERT (also transformers' default when the key is absent).
_REQUIRED_VALUES = {
    "model_type": "bert",
    "position_embedding_type": "absolute",
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
}
_GELU = ("gelu", "gelu_new", "gelu_pytorch_tanh")

# Pre-training heads: HF tensor name(s) → our weight path; HF Linear weights are [out, in] (transposed).
HEAD_TENSORS = [
    (("cls.predictions.transform.dense.weight",), "mlm_head/intermediate_dense/kernel", True),
    (("cls.predictions.transform.dense.bias",), "mlm_head/intermediate_dense/bias", False),
    (
        ("cls.predictions.transform.LayerNorm.weight", "cls.predictions.transform.LayerNorm.gamma"),
        "mlm_head/intermediate_layer_norm/gamma",
        False,
    ),
    (
        ("cls.predictions.transform.LayerNorm.bias", "cls.predictions.transform.LayerNorm.beta"),
        "mlm_head/intermediate_layer_norm/beta",
        False,
    ),
    (("cls.predictions.bias", "cls.predictions.decoder.bias"), "mlm_head/output_bias", False),
    (("cls.seq_relationship.weight",), "nsp_head/kernel", True),
    (("cls.seq_relationship.bias",), "nsp_head/bias", False),
]
_BUFFERS = ("position_ids",)  # saved by some transformers versions; not parameters


def check_hf_config(values: dict) -> BertConfig:
    """The BertConfig of a Hugging Face `config.json`, or ValueError naming what is not original
    BERT."""
    for key, wanted in _REQUIRED_VALUES.items():
        value = values.get(key, wanted)
        if value != wanted:
            raise ValueError(
                f"config.json has {key}={value!r}; only original BERT ({key}={wanted!r}) is supported"
            )
    activation = values.get("hidden_act", "gelu")
    if activation not in _GELU:
        raise ValueError(
            f"config.json has hidden_act={activation!r}; only BERT's GELU is supported"
        )
    missing = [
        k
        for k in (
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
        )
        if k not in values
    ]
    if missing:
        raise ValueError(f"config.json lacks {missing}")
    return BertConfig(
        vocab_size=values["vocab_size"],
        hidden_size=values["hidden_size"],
        num_hidden_layers=values["num_hidden_layers"],
        num_attention_heads=values["num_attention_heads"],
        intermediate_size=values["intermediate_size"],
        hidden_act="gelu",
        hidden_dropout_prob=values.get("hidden_dropout_prob", 0.1),
        attention_probs_dropout_prob=values.get("attention_probs_dropout_prob", 0.1),
        max_position_embeddings=values.get("max_position_embeddings", 512),
        type_vocab_size=2,
        initializer_range=values.get("initializer_range", 0.02),
    ).validate()


def read_safetensors(path: str) -> dict[str, np.ndarray]:
    """Every tensor of a .safetensors file as NumPy (bfloat16/float16 become float32)."""
    from safetensors.numpy import load_file

    return {
        name: np.asarray(value, np.float32) if value.dtype.kind == "f" else value
        for name, value in load_file(path).items()
    }


def parameter_count(tensors: dict[str, np.ndarray]) -> int:
    """Parameters held in a checkpoint's tensors (buffers such as position_ids left out)."""
    return sum(
        int(v.size) for name, v in tensors.items() if name.rsplit(".", 1)[-1] not in _BUFFERS
    )


def _find(tensors: dict, names: tuple[str, ...]):
    """The tensor under one of `names`, with or without a model prefix (`bert.`…); None if
    absent."""
    for name in names:
        for key in tensors:
            if key == name or key.endswith("." + name):
                return tensors[key]
    return None


def load_head_weights(tensors: dict[str, np.ndarray], model) -> tuple[list[str], list[str]]:
    """Assigns the checkpoint's `cls.*` head tensors that exist; returns (loaded paths, fresh
    paths)."""
    ours = {weight.path: weight for weight in model.weights}
    loaded, fresh = [], []
    for names, path, transpose in HEAD_TENSORS:
        value = _find(tensors, names)
        if value is None:
            fresh.append(path)
            continue
        value = value.T if transpose else value
        if tuple(value.shape) != tuple(ours[path].shape):
            raise ValueError(
                f"{names[0]}: shape {value.shape} does not fit {path} {tuple(ours[path].shape)}"
            )
        ours[path].assign(value)
        loaded.append(path)
    return loaded, fresh


def hf_do_lower_case(hf_dir: str) -> bool:
    """The checkpoint's tokenizer casing (tokenizer_config.json `do_lower_case`; uncased if
    absent)."""
    path = os.path.join(hf_dir, "tokenizer_config.json")
    if not os.path.exists(path):
        return True
    with open(path, encoding="utf-8") as f:
        return bool(json.load(f).get("do_lower_case", True))


def _require_files(hf_dir: str) -> None:
    if not os.path.isdir(hf_dir):
        raise FileNotFoundError(f"--hf_dir {hf_dir} is not a directory")
    absent = [
        n
        for n in ("config.json", "model.safetensors", "vocab.txt")
        if not os.path.exists(os.path.join(hf_dir, n))
    ]
    if absent:
        raise FileNotFoundError(
            f"--hf_dir {hf_dir} lacks {absent} (a Hugging Face BERT directory has "
            "config.json, model.safetensors and vocab.txt)"
        )
    try:
        import safetensors  # noqa: F401  (keras-hub's converter needs it; without it the error is unrelated)
    except ImportError as error:
        raise FileNotFoundError(
            "reading Hugging Face checkpoints needs the safetensors package: "
            "pip install safetensors"
        ) from error


def load_hf_pretraining_model(hf_dir: str):
    """(our pre-training model with the checkpoint's weights, its BertConfig, report dict)."""
    import keras_hub

    _require_files(hf_dir)
    with open(os.path.join(hf_dir, "config.json"), encoding="utf-8") as f:
        config = check_hf_config(json.load(f))
    converted = keras_hub.models.BertBackbone.from_preset(hf_dir)
    model = build_pretraining_model(config, max_predictions_per_seq=1)
    backbone = backbone_of(model)
    backbone.set_weights(converted.get_weights())
    tensors = read_safetensors(os.path.join(hf_dir, "model.safetensors"))
    loaded, fresh = load_head_weights(tensors, model)
    report = {
        "backbone_parameters": int(sum(np.prod(w.shape) for w in backbone.weights)),
        "checkpoint_parameters": parameter_count(tensors),
        "heads_loaded": loaded,
        "heads_fresh": fresh,
        "do_lower_case": hf_do_lower_case(hf_dir),
    }
    return model, config, report


def import_hf_checkpoint(hf_dir: str, output_dir: str) -> str:
    """Writes a model directory (checkpoints/ckpt-0, bert_config.json, vocab.txt, import.json) that
    `bert_tf.train --init_checkpoint`, `bert_tf.export` and `bert_tf.finetune` take; returns a
    summary.

    The directory is written beside the target and renamed into place, so it is whole or absent;
    an existing non-empty `output_dir` is refused (nothing of it is touched)."""
    outputs.require_new_or_empty(output_dir)
    model, config, report = load_hf_pretraining_model(hf_dir)
    new_model_dir(
        output_dir,
        model,
        config,
        os.path.join(hf_dir, "vocab.txt"),
        {"import.json": {"hf_dir": os.path.abspath(hf_dir), **report}},
    )
    fresh_heads = sorted({path.split("/")[0] for path in report["heads_fresh"]})
    fresh = (
        f"; heads starting fresh (not in the checkpoint): {', '.join(fresh_heads)}"
        if fresh_heads
        else "; MLM and NSP heads loaded"
    )
    casing = (
        ""
        if report["do_lower_case"]
        else "; cased vocabulary: pass --do_lower_case=false to every stage"
    )
    return (
        f"imported {hf_dir} ({report['backbone_parameters']:,} encoder parameters, "
        f"{config.num_hidden_layers} layers, hidden {config.hidden_size}) → {output_dir}{fresh}{casing}"
    )
