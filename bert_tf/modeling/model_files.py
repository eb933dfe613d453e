"""The files a model directory holds beside its checkpoints — bert_config.json and vocab.txt, all
that export and fine-tuning need — and the rule that a resumed run must use the same ones.

    >>> model_files(None, None, None)
    ('tiny', None)
"""

from __future__ import annotations

import dataclasses
import os

from bert_tf.core import storage
from bert_tf.core.vocab import read_tokens
from bert_tf.modeling.checkpoints import resolve_checkpoint
from bert_tf.modeling.config import BertConfig


def vocab_size_of(path: str | None) -> int | None:
    return None if path is None else len(read_tokens(path))


def model_files(bert_config: str | None, vocab: str | None, init_checkpoint: str | None):
    """(bert_config spec, vocab file): the flags, else those of the --init_checkpoint's model dir
    (so continued pre-training of an imported checkpoint needs no more than --init_checkpoint), else
    tiny."""
    if init_checkpoint and (bert_config is None or vocab is None):
        _, init_dir = resolve_checkpoint(init_checkpoint)
        bert_config = bert_config or os.path.join(init_dir, "bert_config.json")
        vocab = vocab or os.path.join(init_dir, "vocab.txt")
    return bert_config or "tiny", vocab


def check_model_dir(model_dir: str, bert_config: BertConfig, vocab: str | None) -> None:
    """A model dir that already holds a bert_config.json or vocab.txt must hold the requested ones:
    a resume with another model or vocabulary is refused (ValueError naming both) before anything is
    written."""
    config_file, vocab_file = (
        os.path.join(model_dir, "bert_config.json"),
        os.path.join(model_dir, "vocab.txt"),
    )
    if storage.exists(config_file):
        existing = BertConfig.from_json_file(config_file)
        if existing != bert_config:
            changed = sorted(
                k
                for k, v in dataclasses.asdict(bert_config).items()
                if dataclasses.asdict(existing).get(k) != v
            )
            raise ValueError(
                f"--model_dir {model_dir} was trained with {config_file}, which differs from the "
                f"requested --bert_config in {', '.join(changed)}; use a new --model_dir"
            )
    if vocab and storage.exists(vocab_file) and read_tokens(vocab_file) != read_tokens(vocab):
        raise ValueError(
            f"--model_dir {model_dir} was trained with {vocab_file}, which differs from --vocab "
            f"{vocab}; use a new --model_dir"
        )


def write_model_files(model_dir: str, bert_config: BertConfig, vocab: str | None) -> None:
    """bert_config.json and vocab.txt beside the checkpoints (everything export needs), each written
    beside and renamed, after `check_model_dir` accepted them."""
    storage.makedirs(model_dir)
    config_file = os.path.join(model_dir, "bert_config.json")
    bert_config.to_json_file(config_file + ".tmp")
    storage.rename(config_file + ".tmp", config_file)
    if vocab:
        vocab_file = os.path.join(model_dir, "vocab.txt")
        storage.copy(vocab, vocab_file + ".tmp")
        storage.rename(vocab_file + ".tmp", vocab_file)
