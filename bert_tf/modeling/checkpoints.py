"""Models from checkpoints: rebuilding the pre-training model a checkpoint was written from (its
model directory says the architecture, `model_dir`), and copying weights between models.

Example:
    >>> model, vocab_file, prefix = load_checkpoint_dir("runs/tiny")  # doctest: +SKIP
"""

from __future__ import annotations

import tensorflow as tf

from bert_tf.core import storage
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_pretraining_model
from bert_tf.modeling.model_dir import check_block_layout, resolve_checkpoint


def has_nsp_head(prefix: str, bert_config: BertConfig) -> bool:
    """Whether the checkpoint holds an NSP head: a [hidden_size, 2] kernel. Nothing else in a BERT
    pre-training model has that shape (the segment embeddings are [2, hidden_size]); variable names
    do not tell, since a training checkpoint files the model's weights under the optimizer that
    tracks them."""
    return any(
        shape == [bert_config.hidden_size, 2] for _, shape in tf.train.list_variables(prefix)
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
    bert_config = BertConfig.from_json_file(bert_config_file or model_dir.bert_config_file)
    vocab_file = vocab_file or model_dir.vocab_file
    if not storage.exists(vocab_file):
        raise FileNotFoundError(f"vocab file not found: {vocab_file} (pass --vocab)")
    return load_pretraining_model(prefix, bert_config), vocab_file, prefix
