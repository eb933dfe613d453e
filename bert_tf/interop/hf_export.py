"""Our model directory out as a Hugging Face BERT checkpoint directory: `config.json`,
`model.safetensors` with the tensor names of transformers' `BertForPreTraining` (or
`BertForMaskedLM` for a model trained without NSP), `vocab.txt` and the tokenizer files.

The tensor names are google-research/bert's variable names written the transformers way
(`bert/encoder/layer_0/attention/self/query/kernel` → `bert.encoder.layer.0.attention.self.query.weight`),
so the one weight list in `google_checkpoint` serves both formats. Dense kernels are stored [out, in]
as `torch.nn.Linear` holds them; the MLM output matrix is the word-embedding table (tied), so it is
not written twice. The activation is written as `gelu_new`, the tanh form our blocks compute.

A model the format cannot hold (pre-LayerNorm blocks) is refused in one line.

Example:
    >>> hf_tensor_name("bert/encoder/layer_3/attention/output/LayerNorm/gamma")
    'bert.encoder.layer.3.attention.output.LayerNorm.weight'
    >>> hf_tensor_name("cls/seq_relationship/output_weights")
    'cls.seq_relationship.weight'
"""

from __future__ import annotations

import json
import re

import numpy as np

from bert_tf.core import outputs, storage
from bert_tf.core.vocab import Vocab
from bert_tf.interop.google_checkpoint import HEAD_WEIGHTS, _reshape, _transpose, weight_map
from bert_tf.modeling.checkpoints import load_checkpoint_dir
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model_dir import resolve_checkpoint

_HEAD_NAMES = {
    "cls/predictions/output_bias": "cls.predictions.bias",
    "cls/seq_relationship/output_weights": "cls.seq_relationship.weight",
    "cls/seq_relationship/output_bias": "cls.seq_relationship.bias",
}
_SUFFIXES = (("/kernel", ".weight"), ("/bias", ".bias"), ("/gamma", ".weight"), ("/beta", ".bias"))
SPECIAL_TOKENS = {
    "unk_token": "[UNK]",
    "sep_token": "[SEP]",
    "pad_token": "[PAD]",
    "cls_token": "[CLS]",
    "mask_token": "[MASK]",
}


def hf_tensor_name(google_name: str) -> str:
    """transformers' name for a google-research/bert variable (embedding tables get `.weight`)."""
    if google_name in _HEAD_NAMES:
        return _HEAD_NAMES[google_name]
    name = re.sub(r"/layer_(\d+)/", r"/layer/\1/", google_name)
    for old, new in _SUFFIXES:
        if name.endswith(old):
            return name[: -len(old)].replace("/", ".") + new
    return name.replace("/", ".") + ".weight"


def _hf_value(google_name: str, transform, value: np.ndarray, hidden: int) -> np.ndarray:
    """Our weight in transformers' layout: first google-research/bert's (undoing the import's
    reshape or transpose), then Dense kernels [in, out] → Linear [out, in]."""
    if transform is _reshape:  # attention: per-head [hidden, heads, head_dim] ↔ [hidden, hidden]
        value = value.reshape((hidden, hidden) if google_name.endswith("kernel") else (hidden,))
    elif transform is _transpose:
        value = value.T
    return np.ascontiguousarray(value.T if google_name.endswith("/kernel") else value)


def hf_tensors(model, bert_config: BertConfig) -> dict[str, np.ndarray]:
    """Every weight of our pre-training model (encoder, pooler, the heads it has) under its
    transformers name, as float32 NumPy."""
    ours = {weight.path: weight for weight in model.weights}
    entries = weight_map(bert_config.num_hidden_layers) + [
        entry for entry in HEAD_WEIGHTS if entry[1] in ours
    ]
    return {
        hf_tensor_name(google_name): _hf_value(
            google_name,
            transform,
            np.asarray(ours[path].numpy(), np.float32),
            bert_config.hidden_size,
        )
        for google_name, path, transform in entries
    }


def hf_config(bert_config: BertConfig, has_nsp: bool, pad_token_id: int) -> dict:
    """transformers' config.json for our BertConfig."""
    return {
        "architectures": ["BertForPreTraining" if has_nsp else "BertForMaskedLM"],
        "model_type": "bert",
        "vocab_size": bert_config.vocab_size,
        "hidden_size": bert_config.hidden_size,
        "num_hidden_layers": bert_config.num_hidden_layers,
        "num_attention_heads": bert_config.num_attention_heads,
        "intermediate_size": bert_config.intermediate_size,
        "hidden_act": "gelu_new",
        "hidden_dropout_prob": bert_config.hidden_dropout_prob,
        "attention_probs_dropout_prob": bert_config.attention_probs_dropout_prob,
        "max_position_embeddings": bert_config.max_position_embeddings,
        "type_vocab_size": bert_config.type_vocab_size,
        "initializer_range": bert_config.initializer_range,
        "layer_norm_eps": 1e-12,
        "pad_token_id": pad_token_id,
        "position_embedding_type": "absolute",
        "torch_dtype": "float32",
    }


def tokenizer_files(do_lower_case: bool, max_length: int) -> dict[str, dict]:
    """tokenizer_config.json and special_tokens_map.json for transformers' BertTokenizer (and
    keras-hub's loader, which reads `do_lower_case`)."""
    return {
        "tokenizer_config.json": {
            "tokenizer_class": "BertTokenizer",
            "do_lower_case": do_lower_case,
            "strip_accents": None,
            "tokenize_chinese_chars": True,
            "model_max_length": max_length,
            **SPECIAL_TOKENS,
        },
        "special_tokens_map.json": SPECIAL_TOKENS,
    }


def export_hf_checkpoint(checkpoint: str, output_dir: str, do_lower_case: bool = True) -> str:
    """Writes the Hugging Face directory beside `output_dir` and moves it into place whole
    (`output_dir` must be new or empty); returns a one-line summary."""
    import safetensors.numpy

    outputs.require_new_or_empty(output_dir)
    model_dir = resolve_checkpoint(checkpoint)[1]
    bert_config = model_dir.read_config()
    if bert_config.pre_layer_norm:
        raise ValueError(
            f"{model_dir.path} has pre-LayerNorm blocks, which Hugging Face's BERT cannot hold; "
            "export a SavedModel instead (bert_tf.export)"
        )
    model, vocab_file, prefix = load_checkpoint_dir(checkpoint)
    tensors = hf_tensors(model, bert_config)
    has_nsp = "cls.seq_relationship.weight" in tensors
    vocab = Vocab.from_file(vocab_file)  # refuses a vocab without BERT's special tokens
    side_files = tokenizer_files(do_lower_case, bert_config.max_position_embeddings)
    side_files["config.json"] = hf_config(bert_config, has_nsp, vocab.pad_id)
    with outputs.staged(output_dir, "--output_dir", marker="config.json") as staging:
        with storage.open_file(f"{staging}/model.safetensors", "wb") as f:
            f.write(safetensors.numpy.save(tensors, metadata={"format": "pt"}))
        storage.copy(vocab_file, f"{staging}/vocab.txt")
        for name, values in side_files.items():
            storage.write_text(f"{staging}/{name}", json.dumps(values, indent=1) + "\n")
    heads = "MLM and NSP heads" if has_nsp else "MLM head (no NSP head in the checkpoint)"
    return f"exported {prefix} ({len(tensors)} tensors, {heads}) → {output_dir}"
