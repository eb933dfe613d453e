"""Our model directory, one concept: its file names, how a checkpoint path leads to it, how its side
files are read, checked and written.

What `bert_tf.train` and the checkpoint converters write, and what export, fine-tuning and the
converters read:

    MODEL_DIR/
        checkpoints/ckpt-N.*    weights (training adds optimizer slots, time spent, random states)
        bert_config.json        the architecture (pre- or post-LayerNorm blocks included)
        vocab.txt               the WordPiece vocabulary
        train_log.jsonl         training only: a line per logged step; eval_log.jsonl per evaluation
        train/, eval/           TensorBoard events
        input_position.json     the step at which the current record stream started (resume)
        record_counts.json      records per file of inputs without a manifest
        curves.png              the run's picture

One write discipline: a single file is written beside its name and renamed onto it
(`storage.written_whole`); a converter's new directory is built beside `output_dir` and published
whole (`outputs.staged`), from the same side-file writer.

    >>> ModelDir("runs/tiny").bert_config_file
    'runs/tiny/bert_config.json'
    >>> model_files(None, None, None)
    ('tiny', None)
"""

from __future__ import annotations

import dataclasses
import json
import os
from typing import ClassVar

import tensorflow as tf

from bert_tf.core import outputs, storage
from bert_tf.core.vocab import read_tokens
from bert_tf.modeling.config import BertConfig


@dataclasses.dataclass(frozen=True)
class ModelDir:
    """The paths of one model directory."""

    path: str

    # The names, declared once (the properties below join them to `path`).
    CHECKPOINTS: ClassVar[str] = "checkpoints"
    BERT_CONFIG: ClassVar[str] = "bert_config.json"
    CURVES: ClassVar[str] = "curves.png"

    def _file(self, name: str) -> str:
        return os.path.join(self.path, name)

    checkpoints = property(lambda self: self._file(self.CHECKPOINTS))
    bert_config_file = property(lambda self: self._file(self.BERT_CONFIG))
    vocab_file = property(lambda self: self._file("vocab.txt"))
    train_log = property(lambda self: self._file("train_log.jsonl"))
    eval_log = property(lambda self: self._file("eval_log.jsonl"))
    input_position = property(lambda self: self._file("input_position.json"))
    record_counts = property(lambda self: self._file("record_counts.json"))
    curves = property(lambda self: self._file(self.CURVES))

    def tensorboard(self, split: str) -> str:
        """The TensorBoard events directory of "train" or "eval"."""
        return self._file(split)

    def read_config(self) -> BertConfig:
        return BertConfig.from_json_file(self.bert_config_file)

    def check(self, bert_config: BertConfig, vocab: str | None) -> None:
        """A directory that already holds a bert_config.json or vocab.txt must hold the requested
        ones: a resume with another model or vocabulary is refused (ValueError naming both) before
        anything is written."""
        if storage.exists(self.bert_config_file):
            existing = dataclasses.asdict(self.read_config())
            changed = sorted(
                k for k, v in dataclasses.asdict(bert_config).items() if existing.get(k) != v
            )
            if changed:
                raise ValueError(
                    f"--model_dir {self.path} was trained with {self.bert_config_file}, which "
                    f"differs from the requested --bert_config in {', '.join(changed)}; use a new "
                    "--model_dir"
                )
        if vocab and storage.exists(self.vocab_file):
            if read_tokens(self.vocab_file) != read_tokens(vocab):
                raise ValueError(
                    f"--model_dir {self.path} was trained with {self.vocab_file}, which differs "
                    f"from --vocab {vocab}; use a new --model_dir"
                )

    def write_side_files(self, bert_config: BertConfig, vocab: str | None, extra_json=None):
        """bert_config.json, a copy of `vocab` and `extra_json` ({name: values}) — everything
        export needs beside the checkpoints — each written whole."""
        storage.makedirs(self.path)
        bert_config.to_json_file(self.bert_config_file)
        if vocab:
            with storage.open_file(vocab, "rb") as source:
                with storage.written_whole(self.vocab_file, "wb") as f:
                    f.write(source.read())
        for name, values in (extra_json or {}).items():
            with storage.written_whole(self._file(name)) as f:
                json.dump(values, f, indent=1)


def resolve_checkpoint(path: str) -> tuple[str, ModelDir]:
    """(checkpoint prefix, its model directory) for a model dir, its checkpoints/ dir, or a
    prefix."""
    if storage.isdir(path):
        for directory in (ModelDir(path).checkpoints, path):
            prefix = tf.train.latest_checkpoint(directory)
            if prefix:
                return prefix, ModelDir(path)
        raise FileNotFoundError(f"--checkpoint {path}: no checkpoint found in it")
    if not storage.exists(path + ".index"):
        raise FileNotFoundError(f"--checkpoint {path}: not a directory nor a checkpoint prefix")
    parent = os.path.dirname(path)
    in_checkpoints = os.path.basename(parent) == ModelDir.CHECKPOINTS
    return path, ModelDir(os.path.dirname(parent) if in_checkpoints else parent)


def model_files(bert_config: str | None, vocab: str | None, init_checkpoint: str | None):
    """(bert_config spec, vocab file): the flags, else those of the --init_checkpoint's model dir
    (so continued pre-training of an imported checkpoint needs no more than --init_checkpoint), else
    tiny."""
    if init_checkpoint and (bert_config is None or vocab is None):
        init_dir = resolve_checkpoint(init_checkpoint)[1]
        bert_config = bert_config or init_dir.bert_config_file
        vocab = vocab or init_dir.vocab_file
    return bert_config or "tiny", vocab


def vocab_size_of(path: str | None) -> int | None:
    return None if path is None else len(read_tokens(path))


def check_block_layout(prefix: str, bert_config: BertConfig) -> None:
    """A checkpoint's LayerNorm placement (its model dir's bert_config.json) must be the model's:
    restoring pre-LN weights into post-LN blocks, or back, would load without error and compute
    something else. One-line ValueError."""
    model_dir = resolve_checkpoint(prefix)[1]
    if not storage.exists(model_dir.bert_config_file):
        return
    saved = model_dir.read_config().pre_layer_norm
    if saved != bert_config.pre_layer_norm:
        layout = {True: "pre-LayerNorm", False: "post-LayerNorm"}
        raise ValueError(
            f"{prefix} holds {layout[saved]} blocks ({model_dir.bert_config_file}), the model to "
            f"load it into has {layout[bert_config.pre_layer_norm]} blocks; use the checkpoint's "
            "bert_config.json"
        )


def new_model_dir(
    output_dir: str, model, bert_config: BertConfig, vocab_file: str, extra_json=None
) -> str:
    """Writes a model directory (checkpoints/ckpt-0, the side files and `extra_json`) for `model`
    beside `output_dir` and moves it into place whole; returns the checkpoint prefix.

    `output_dir` must be new or empty (OutputError otherwise): converters never take over a model
    dir whose checkpoints, config or vocab someone else wrote."""
    outputs.require_new_or_empty(output_dir)
    with outputs.staged(output_dir, "--output_dir", marker=ModelDir.BERT_CONFIG) as staging:
        staged = ModelDir(staging)
        staged.write_side_files(bert_config, vocab_file, extra_json)
        manager = tf.train.CheckpointManager(
            tf.train.Checkpoint(model=model), staged.checkpoints, 1
        )
        saved = manager.save(0)
    return os.path.join(output_dir, os.path.relpath(saved, staging))
