"""What every fine-tuning task shares: the run's settings, the encoder it starts from (a checkpoint or
random weights), the optimizer, the progress log and results.json.

Example:
    >>> cfg = FineTuneConfig(train_file="train.csv", output_dir="runs/x", vocab="vocab.txt")
    >>> backbone, vocab_file, source = encoder_and_vocab(cfg)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import os

from bert_tf.core import storage
from bert_tf.core.outputs import save_saved_model
from bert_tf.core.vocab import read_tokens
from bert_tf.finetuning.classifier import FineTuningLog, split_held_out
from bert_tf.modeling.checkpoints import load_checkpoint_dir
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import backbone_of, build_backbone
from bert_tf.training.curves import FINETUNING_LOG, plot_finetuning
from bert_tf.training.optimization import WarmupPolynomialDecay, create_optimizer


@dataclasses.dataclass(frozen=True)
class FineTuneConfig:
    """One fine-tuning run (the flags of bert_tf/finetune.py say what each field means)."""

    train_file: str
    output_dir: str
    eval_file: str | None = None
    eval_fraction: float = 0.1
    text_column: str = "text"
    text_b_column: str | None = None
    label_column: str = "label"
    labels: tuple[str, ...] | None = None
    max_train_examples: int | None = None
    init_checkpoint: str | None = None
    bert_config: str = "tiny"
    vocab: str | None = None
    do_lower_case: bool = True
    max_seq_length: int = 128
    batch_size: int = 32
    epochs: int = 3
    learning_rate: float = 5e-5
    layer_lr_decay: float = 1.0
    ema_momentum: float = 0.0
    dropout: float = 0.1
    freeze_encoder: bool = False
    probe_epochs: int = 0
    probe_learning_rate: float = 1e-3
    pooling: str = "cls"
    seed: int = 1
    task: str = "classification"
    doc_stride: int = 128
    max_query_length: int = 64
    max_answer_length: int = 30
    null_score_diff_threshold: float = 0.0


def encoder_and_vocab(cfg: FineTuneConfig):
    """(backbone, vocab file, where the weights came from)."""
    if cfg.init_checkpoint:
        model, vocab_file, prefix = load_checkpoint_dir(cfg.init_checkpoint)
        return backbone_of(model), vocab_file, prefix
    if not cfg.vocab:
        raise ValueError("--vocab is required without --init_checkpoint")
    config = BertConfig.from_name_or_file(cfg.bert_config, len(read_tokens(cfg.vocab)))
    return build_backbone(config), cfg.vocab, "random initialisation"


def train_and_held_out(cfg: FineTuneConfig, read, key) -> tuple[list, list, dict]:
    """(training items, held-out items, skipped rows by reason) of a task whose files `read(path)`
    turns into (items, skipped): --eval_file, else a stable hash of `key(item)` decides
    (--eval_fraction); the training items cut to --max_train_examples."""
    items, skipped = read(cfg.train_file)
    if cfg.eval_file:
        held_out, eval_skipped = read(cfg.eval_file)
        skipped = {f"train_{k}": v for k, v in skipped.items()}
        skipped.update({f"eval_{k}": v for k, v in eval_skipped.items()})
        train = items
    else:
        train, held_out = split_held_out(items, cfg.eval_fraction, key=key)
    if not held_out or not train:
        raise ValueError(
            f"{len(train)} training and {len(held_out)} held-out examples: give more, another "
            "--eval_fraction or an --eval_file"
        )
    return train[: cfg.max_train_examples], held_out, skipped


def adamw(peak_lr: float, steps: int, **optimizer_options):
    """AdamW over `steps` (linear warmup over the first 10%, then linear decay to 0), the whole
    gradient clipped to norm 1 as in the original."""
    optimizer = create_optimizer(
        "adamw", WarmupPolynomialDecay(peak_lr, steps // 10, steps), **optimizer_options
    )
    optimizer.global_clipnorm = 1.0  # one device: Keras clips the whole gradient
    return optimizer


def new_log(output_dir: str, steps_per_epoch: int) -> FineTuningLog:
    """The run's finetune_log.jsonl callback; a re-run replaces its own earlier log (and SavedModel)."""
    storage.makedirs(output_dir)
    log_path = os.path.join(output_dir, FINETUNING_LOG)
    if storage.exists(log_path):
        storage.remove(log_path)
    return FineTuningLog(log_path, steps_per_epoch)


def fit(cfg: FineTuneConfig, model, data, validation, steps_per_epoch: int):
    """`model.fit` for `cfg.epochs` with the held-out loss after every epoch and finetune_log.jsonl
    (`data` shuffles itself); returns the Keras History."""
    log = new_log(cfg.output_dir, steps_per_epoch)
    return model.fit(
        data,
        validation_data=validation,
        epochs=cfg.epochs,
        callbacks=[log],
        verbose=2,
        shuffle=False,
    )


def export_saved_model(cfg: FineTuneConfig, module, signatures: dict) -> None:
    """`--output_dir`/saved_model, published whole; a re-run replaces its own earlier one."""
    save_saved_model(
        module, os.path.join(cfg.output_dir, "saved_model"), signatures, overwrite=True
    )


def write_results(output_dir: str, results: dict) -> dict:
    """Writes results.json and curves.png (from the run's log); returns the results with the
    picture's path under "curves"."""
    with storage.open_file(os.path.join(output_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    return {**results, "curves": plot_finetuning(output_dir)}
