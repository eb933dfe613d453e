"""Reading our model directories back: checkpoint resolution, rebuilding the pre-training model the
checkpoint was written from, and writing it as a keras-hub preset.

A model directory (what `bert_tf.train` and `bert_tf.convert_google_checkpoint` write) holds
`checkpoints/ckpt-N.*`, `bert_config.json` and `vocab.txt`.

Example:
    >>> model, vocab_file, prefix = load_checkpoint_dir("runs/tiny")  # doctest: +SKIP
    >>> save_keras_hub_preset("runs/tiny", "runs/tiny/keras_hub_preset")  # doctest: +SKIP
"""

from __future__ import annotations

import os

import tensorflow as tf

from bert_tf.core import storage
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import backbone_of, build_pretraining_model


def resolve_checkpoint(path: str) -> tuple[str, str]:
    """(checkpoint prefix, model_dir) for a model_dir, its checkpoints/ dir, or a prefix."""
    if storage.isdir(path):
        for directory in (os.path.join(path, "checkpoints"), path):
            prefix = tf.train.latest_checkpoint(directory)
            if prefix:
                return prefix, path
        raise FileNotFoundError(f"--checkpoint {path}: no checkpoint found in it")
    if not storage.exists(path + ".index"):
        raise FileNotFoundError(f"--checkpoint {path}: not a directory nor a checkpoint prefix")
    model_dir = (
        os.path.dirname(os.path.dirname(path))
        if os.path.basename(os.path.dirname(path)) == "checkpoints"
        else os.path.dirname(path)
    )
    return path, model_dir


def has_nsp_head(prefix: str, bert_config: BertConfig) -> bool:
    """Whether the checkpoint holds an NSP head: a [hidden_size, 2] kernel. Nothing else in a BERT
    pre-training model has that shape (the segment embeddings are [2, hidden_size]); variable names
    do not tell, since a training checkpoint files the model's weights under the optimizer that
    tracks them."""
    return any(
        shape == [bert_config.hidden_size, 2] for _, shape in tf.train.list_variables(prefix)
    )


def check_block_layout(prefix: str, bert_config: BertConfig) -> None:
    """A checkpoint's LayerNorm placement (its model dir's bert_config.json) must be the model's:
    restoring pre-LN weights into post-LN blocks, or back, would load without error and compute
    something else. One-line ValueError."""
    written = os.path.join(resolve_checkpoint(prefix)[1], "bert_config.json")
    if not storage.exists(written):
        return
    saved = BertConfig.from_json_file(written).pre_layer_norm
    if saved != bert_config.pre_layer_norm:
        layout = {True: "pre-LayerNorm", False: "post-LayerNorm"}
        raise ValueError(
            f"{prefix} holds {layout[saved]} blocks ({written}), the model to load it into has "
            f"{layout[bert_config.pre_layer_norm]} blocks; use the checkpoint's bert_config.json"
        )


def load_pretraining_model(prefix: str, bert_config: BertConfig):
    """Rebuilds the pre-training model (with an NSP head if the checkpoint has one, else MLM-only)
    and restores `prefix` into it — built first, as restore needs."""
    check_block_layout(prefix, bert_config)
    model = build_pretraining_model(bert_config, 1, has_nsp_head(prefix, bert_config))
    try:
        tf.train.Checkpoint(model=model).read(
            prefix
        ).expect_partial().assert_existing_objects_matched()
    except AssertionError as mismatch:
        raise ValueError(
            f"{prefix} does not match bert_config {bert_config}: {str(mismatch)[:500]}"
        ) from None
    return model


def copy_weights(source, target) -> list[str]:
    """Assigns each weight of `target` (frozen ones too) the `source` weight of the same path;
    returns the paths `source` lacks (they keep their initialisation). By path, not by checkpoint
    object graph: an MLM-only and an MLM + NSP model differ in their graphs but share every weight
    they both have."""
    values = {weight.path: weight for weight in source.weights}
    fresh = []
    for weight in target.weights:
        value = values.get(weight.path)
        if value is None:
            fresh.append(weight.path)
        elif tuple(value.shape) != tuple(weight.shape):
            raise ValueError(
                f"{weight.path}: shape {tuple(value.shape)} in the checkpoint, {tuple(weight.shape)} here"
            )
        else:
            weight.assign(value.numpy())
    return fresh


def load_checkpoint_dir(
    checkpoint: str, bert_config_file: str | None = None, vocab_file: str | None = None
):
    """(pre-training model, vocab file, checkpoint prefix) from a model_dir or prefix and its side
    files."""
    prefix, model_dir = resolve_checkpoint(checkpoint)
    bert_config = BertConfig.from_json_file(
        bert_config_file or os.path.join(model_dir, "bert_config.json")
    )
    vocab_file = vocab_file or os.path.join(model_dir, "vocab.txt")
    if not storage.exists(vocab_file):
        raise FileNotFoundError(f"vocab file not found: {vocab_file} (pass --vocab)")
    return load_pretraining_model(prefix, bert_config), vocab_file, prefix


def save_keras_hub_preset(checkpoint: str, output: str, lower_case: bool = True) -> str:
    """Backbone + tokenizer as a keras-hub preset
    (`BertBackbone/BertTokenizer.from_preset(output)`).

    Uncased: the keras-hub tokenizer lower-cases *and* strips accents, like ours. Returns the
    prefix."""
    import keras_hub

    model, vocab_file, prefix = load_checkpoint_dir(checkpoint)
    if not isinstance(backbone_of(model), keras_hub.models.BertBackbone):
        raise ValueError(
            f"{prefix} has pre-LayerNorm blocks, which keras-hub's BertBackbone preset cannot hold; "
            "export a SavedModel instead (bert_tf.export)"
        )
    backbone_of(model).save_to_preset(output)
    keras_hub.models.BertTokenizer(
        vocabulary=vocab_file, lowercase=lower_case, strip_accents=lower_case
    ).save_to_preset(output)
    return prefix


def new_model_dir(
    output_dir: str,
    model,
    bert_config: BertConfig,
    vocab_file: str,
    extra_json: dict[str, dict] | None = None,
) -> str:
    """Writes a model directory (checkpoints/ckpt-0, bert_config.json, vocab.txt, extra JSON files)
    for `model` beside `output_dir` and moves it into place whole; returns the checkpoint prefix.

    `output_dir` must be new or empty (OutputError otherwise): converters never take over a model
    dir whose checkpoints, config or vocab someone else wrote."""
    import json

    from bert_tf.core import outputs

    outputs.require_new_or_empty(output_dir)
    with outputs.staged(output_dir, "--output_dir", marker="bert_config.json") as staging:
        bert_config.to_json_file(os.path.join(staging, "bert_config.json"))
        storage.copy(vocab_file, os.path.join(staging, "vocab.txt"))
        for name, values in (extra_json or {}).items():
            with storage.open_file(os.path.join(staging, name), "w") as f:
                json.dump(values, f, indent=1)
        checkpoint = tf.train.Checkpoint(model=model)
        saved = tf.train.CheckpointManager(
            checkpoint, os.path.join(staging, "checkpoints"), 1
        ).save(0)
    return os.path.join(output_dir, os.path.relpath(saved, staging))
