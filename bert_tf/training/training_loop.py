"""The host side of training: executions of `steps_per_execution` steps, TensorBoard scalars,
console progress with ETA, checkpoints every N steps, SIGTERM → checkpoint then clean exit (on every
worker at the same step: they vote after each execution), NaN/Inf → stop. Only the chief writes to
MODEL_DIR.

Every logged record is also appended to MODEL_DIR/train_log.jsonl (easy to plot or test against),
and MODEL_DIR/curves.png is redrawn from it at every checkpoint (bert_tf/training/curves.py).

Example:
    >>> history = train_loop(trainer, iter(distributed_dataset))  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import signal
import time

import tensorflow as tf

from bert_tf.core import storage
from bert_tf.modeling.model_dir import ModelDir
from bert_tf.training.curves import plot_pretraining
from bert_tf.training.train_metrics import metrics_from_sums
from bert_tf.training.trainer import Trainer

# mlm_top10_share at or above which a run is on the frequent-token plateau (measured: WORKSPACE_NOTES).
PLATEAU_SHARE = 0.8
# Sequences a run sees before its plateau is news: the budget recipe leaves it after ≈ 10,000–15,000
# (WORKSPACE_NOTES), so a minutes-long run is not warned about a plateau it is about to leave.
PLATEAU_MIN_SEQUENCES = 20_000


class TrainingDiverged(RuntimeError):
    """The loss became NaN or Inf; the last good checkpoint is kept."""


class _StopFlag:
    """Set by SIGTERM (preemption, `kill`) so the loop can save a checkpoint and exit cleanly."""

    def __init__(self):
        self.requested = False

    def __enter__(self):
        self._previous = signal.signal(signal.SIGTERM, self._handle)
        return self

    def _handle(self, signum, frame):
        print("SIGTERM received: saving a checkpoint, then stopping", flush=True)
        self.requested = True

    def __exit__(self, *exc):
        signal.signal(signal.SIGTERM, self._previous)


def _last_step(config) -> int | float:
    """Where this run ends by step: --stop_at_step (phase 1 of two phases) or the end of the schedule
    (with a time budget, only --stop_at_step: the budget's clock ends the run)."""
    end = math.inf if config.train_minutes else config.num_train_steps
    return min(config.stop_at_step or end, end)


def _next_boundary(step: int, config, eval_every: int | None) -> int:
    """The next step at which the host must look: a log, a checkpoint, an eval, the end, or one
    execution."""
    periods = [config.log_every, config.checkpoint_every] + ([eval_every] if eval_every else [])
    candidates = [_last_step(config), step + config.steps_per_execution]
    candidates += [(step // period + 1) * period for period in periods]
    if step == 0:
        candidates.append(1)  # log the very first step: the loss at initialisation
    return int(min(candidates))


class TrainingClock:
    """Seconds of training: the time earlier runs of this model dir spent (restored with the
    checkpoint) plus this run's wall clock, less the time spent evaluating (`paused`)."""

    def __init__(self, restored_seconds: float):
        self.restored, self.started, self.excluded = restored_seconds, time.time(), 0.0

    def seconds(self) -> float:
        return self.restored + time.time() - self.started - self.excluded

    @contextlib.contextmanager
    def paused(self):
        begin = time.time()
        try:
            yield
        finally:
            self.excluded += time.time() - begin


class PlateauWatch:
    """One warning line when, past a quarter of the run and PLATEAU_MIN_SEQUENCES sequences, the MLM
    still predicts almost only its ten favourite tokens (`mlm_top10_share` ≥ PLATEAU_SHARE): the
    frequent-token plateau."""

    def __init__(self):
        self.warned = False

    def check(self, record: dict, progress: float, sequences: int) -> str | None:
        share = record.get("mlm_top10_share", 0.0)
        too_early = progress < 0.25 or sequences < PLATEAU_MIN_SEQUENCES
        if self.warned or too_early or share < PLATEAU_SHARE:
            return None
        self.warned = True
        return (
            f"warning: MLM plateau: at {progress:.0%} of the run {share:.0%} of the masked-token "
            "predictions are still the 10 most frequent guesses (the model has not learned to use "
            "context). Usual causes: a learning rate too low or too high for the blocks (post-LN "
            "blocks want warmup and ≤ 5e-4, pre-LN ones take 2e-3: --recipe=budget), a vocabulary "
            "too large for the model width (build_vocab --vocab_size), sequences too long for the "
            "model to learn positions yet, repeated text in the corpus, or too short a run."
        )


def _log(trainer: Trainer, writer, step: int, seconds: float, log_file) -> dict:
    sums = trainer.accumulators.read()
    trainer.accumulators.reset()
    record = metrics_from_sums(sums)
    record.update(
        step=step,
        training_seconds=float(trainer.training_seconds.numpy()),
        learning_rate=trainer.learning_rate(step),
        examples_per_second=sums["examples"] / seconds,
        tokens_per_second=sums["tokens"] / seconds,
    )
    if not math.isfinite(record["loss"]):
        raise TrainingDiverged(
            f"loss is {record['loss']} at step {step}; last good checkpoint: "
            f"{trainer.manager.latest_checkpoint}"
        )
    with writer.as_default(step=step):
        for name, value in record.items():
            if name != "step":
                tf.summary.scalar(name, value)
    log_file.write(json.dumps(record) + "\n")
    log_file.flush()
    return record


def _summary_writer(trainer: Trainer, name: str):
    """TensorBoard writer for MODEL_DIR/name on the chief; other workers write nothing."""
    if not trainer.chief:
        return tf.summary.create_noop_writer()
    return tf.summary.create_file_writer(ModelDir(trainer.config.model_dir).tensorboard(name))


def _run_eval(trainer: Trainer, eval_dataset, writer, step: int) -> None:
    record = trainer.evaluate(eval_dataset)
    with writer.as_default(step=step):
        for name, value in record.items():
            tf.summary.scalar(name, value)
    if trainer.chief:
        with storage.open_file(ModelDir(trainer.config.model_dir).eval_log, "a") as f:
            seconds = float(trainer.training_seconds.numpy())
            f.write(json.dumps({"step": step, "training_seconds": seconds, **record}) + "\n")
    print(
        f"eval at step {step}: loss {record['loss']:.4f}  mlm acc {record['mlm_accuracy']:.3f}"
        + (f"  nsp acc {record['nsp_accuracy']:.3f}" if "nsp_accuracy" in record else "")
        + f"  ({record['examples']:.0f} examples)",
        flush=True,
    )


def _describe_run(writer, step: int, flag_values: dict, bert_config) -> None:
    """TensorBoard: the run's flags as hparams (HParams tab) and, as text, the flags and
    bert_config.json."""
    from tensorboard.plugins.hparams import api as hparams

    values = {
        k: v if isinstance(v, (bool, int, float, str)) else json.dumps(v)
        for k, v in flag_values.items()
        if v is not None
    }
    with writer.as_default(step=step):
        hparams.hparams(values)
        tf.summary.text(
            "config/flags", "\n".join(f"    {k} = {v}" for k, v in sorted(values.items()))
        )
        tf.summary.text(
            "config/bert_config",
            "    " + json.dumps(dataclasses.asdict(bert_config), indent=2).replace("\n", "\n    "),
        )


class Progress:
    """Where the run is: its step and training seconds, the share of the schedule done (of the
    budget with --train_minutes, else of the steps), whether it is finished, and the console line."""

    def __init__(self, config, step: int, clock: TrainingClock):
        self.config, self.step = config, step
        self.start_step, self.start_seconds = step, clock.seconds()
        self.seconds, self.budget = self.start_seconds, (config.train_minutes or 0) * 60.0
        self.last_step = _last_step(config)

    def advance(self, step: int, seconds: float) -> int:
        self.step, self.seconds = step, seconds
        return step

    def fraction(self) -> float:
        if self.budget:
            return self.seconds / self.budget
        return self.step / self.config.num_train_steps

    def finished(self) -> bool:
        return self.step >= self.last_step or bool(self.budget and self.seconds >= self.budget)

    def line(self, record: dict) -> str:
        nsp = record.get("nsp_loss")
        text = (
            f"step {self.step}{'' if self.budget else f'/{self.config.num_train_steps}'}  "
            f"loss {record['loss']:.4f}  mlm {record['mlm_loss']:.4f} acc {record['mlm_accuracy']:.3f}  "
            + (f"nsp {nsp:.4f} acc {record['nsp_accuracy']:.3f}  " if nsp is not None else "")
            + f"lr {record['learning_rate']:.2e}  {record['examples_per_second']:.1f} ex/s  "
        )
        if self.budget:
            left = max(self.budget - self.seconds, 0.0)
            return text + f"{self.seconds / 60:.1f}/{self.budget / 60:g} min, ETA {left:.0f} s"
        rate = (self.step - self.start_step) / max(self.seconds - self.start_seconds, 1e-9)
        eta = (self.last_step - self.step) / rate if rate else float("nan")
        return text + f"ETA {eta:.0f} s"


def _checkpoint(trainer: Trainer, log_file) -> None:
    print(f"saved checkpoint {trainer.save()}", flush=True)
    log_file.flush()
    if trainer.chief:  # MODEL_DIR/curves.png, from the logs just written
        plot_pretraining(trainer.config.model_dir)


def train_loop(
    trainer: Trainer,
    iterator,
    eval_dataset=None,
    eval_every: int | None = None,
    flag_values: dict | None = None,
) -> list[dict]:
    """Trains from the trainer's current step to num_train_steps, or until the training time reaches
    train_minutes (evaluation time not counted); returns the logged records.

    With `eval_dataset` (finite, distributed), evaluates every `eval_every` steps and at the end.
    `flag_values` (the run's flags) go to TensorBoard as hparams, beside the model config."""
    config = trainer.config
    eval_every = eval_every if eval_dataset else None
    writer = _summary_writer(trainer, "train")
    eval_writer = _summary_writer(trainer, "eval") if eval_dataset else None
    if flag_values is not None and trainer.chief:
        _describe_run(writer, trainer.step, flag_values, trainer.bert_config)
    clock = TrainingClock(float(trainer.training_seconds.numpy()))
    progress, plateau = Progress(config, trainer.step, clock), PlateauWatch()
    history, last_log, stopping = [], time.time(), False
    if progress.finished():
        print(
            f"nothing to train: the model dir is at the end of its schedule (step {trainer.step})"
        )
    log_path = ModelDir(config.model_dir).train_log if trainer.chief else os.devnull
    with _StopFlag() as stop, storage.open_file(log_path, "a") as log_file:
        while not (progress.finished() or stopping):
            boundary = _next_boundary(progress.step, config, eval_every)
            trainer.run_steps(iterator, boundary - progress.step)
            # every worker stops after the same step, at the same clock
            stopping, seconds = trainer.agree(stop.requested, clock.seconds())
            step, finished = progress.advance(boundary, seconds), progress.finished()
            if step % config.log_every == 0 or step == 1 or finished or stopping:
                now = time.time()
                record = _log(trainer, writer, step, now - last_log, log_file)
                history.append(record)
                last_log = now
                print(progress.line(record), flush=True)
                warning = plateau.check(record, progress.fraction(), step * config.train_batch_size)
                if warning:
                    print(warning, flush=True)
            if eval_dataset and ((eval_every and step % eval_every == 0) or finished):
                with clock.paused():
                    _run_eval(trainer, eval_dataset, eval_writer, step)
            if step % config.checkpoint_every == 0 or finished or stopping:
                _checkpoint(trainer, log_file)
    writer.flush()
    return history
