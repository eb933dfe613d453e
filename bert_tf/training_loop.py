"""The host side of training: executions of `steps_per_execution` steps, TensorBoard scalars,
console progress with ETA, checkpoints every N steps, SIGTERM → checkpoint then clean exit (on every
worker at the same step: they vote after each execution), NaN/Inf → stop. Only the chief writes to
MODEL_DIR.

Every logged record is also appended to MODEL_DIR/train_log.jsonl (easy to plot or test against),
and MODEL_DIR/curves.png is redrawn from it at every checkpoint (bert_tf/curves.py).

Example:
    >>> history = train_loop(trainer, iter(distributed_dataset))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import signal
import time

import tensorflow as tf

from bert_tf.curves import plot_pretraining
from bert_tf.trainer import Trainer, metrics_from_sums


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


def _last_step(config) -> int:
    """Where this run ends: --stop_at_step (phase 1 of two phases) or the end of the schedule."""
    return min(config.stop_at_step or config.num_train_steps, config.num_train_steps)


def _next_boundary(step: int, config, eval_every: int | None) -> int:
    """The next step at which the host must look: a log, a checkpoint, an eval, the end, or one
    execution."""
    periods = [config.log_every, config.checkpoint_every] + ([eval_every] if eval_every else [])
    candidates = [_last_step(config), step + config.steps_per_execution]
    candidates += [(step // period + 1) * period for period in periods]
    if step == 0:
        candidates.append(1)  # log the very first step: the loss at initialisation
    return min(candidates)


def _log(trainer: Trainer, writer, step: int, seconds: float, log_file) -> dict:
    sums = trainer.accumulators.read()
    trainer.accumulators.reset()
    record = metrics_from_sums(sums)
    record.update(
        step=step,
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
    return tf.summary.create_file_writer(os.path.join(trainer.config.model_dir, name))


def _run_eval(trainer: Trainer, eval_dataset, writer, step: int) -> None:
    record = trainer.evaluate(eval_dataset)
    with writer.as_default(step=step):
        for name, value in record.items():
            tf.summary.scalar(name, value)
    if trainer.chief:
        with tf.io.gfile.GFile(os.path.join(trainer.config.model_dir, "eval_log.jsonl"), "a") as f:
            f.write(json.dumps({"step": step, **record}) + "\n")
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


def train_loop(
    trainer: Trainer,
    iterator,
    eval_dataset=None,
    eval_every: int | None = None,
    flag_values: dict | None = None,
) -> list[dict]:
    """Trains from the trainer's current step to num_train_steps; returns the logged records.

    With `eval_dataset` (finite, distributed), evaluates every `eval_every` steps and at the end.
    `flag_values` (the run's flags) go to TensorBoard as hparams, beside the model config."""
    config = trainer.config
    eval_every = eval_every if eval_dataset else None
    writer = _summary_writer(trainer, "train")
    eval_writer = _summary_writer(trainer, "eval") if eval_dataset else None
    if flag_values is not None and trainer.chief:
        _describe_run(writer, trainer.step, flag_values, trainer.bert_config)
    step = start_step = trainer.step
    last_step = _last_step(config)
    history = []
    started = last_log = time.time()
    stopping = False
    log_path = os.path.join(config.model_dir, "train_log.jsonl") if trainer.chief else os.devnull
    with _StopFlag() as stop, tf.io.gfile.GFile(log_path, "a") as log_file:
        while step < last_step and not stopping:
            boundary = _next_boundary(step, config, eval_every)
            trainer.run_steps(iterator, boundary - step)
            step = boundary
            stopping = trainer.agree_to_stop(stop.requested)  # all workers stop after the same step
            if step % config.log_every == 0 or step in (1, last_step) or stopping:
                now = time.time()
                record = _log(trainer, writer, step, now - last_log, log_file)
                history.append(record)
                last_log = now
                rate = (step - start_step) / (now - started)
                eta = (last_step - step) / rate if rate else float("nan")
                print(
                    f"step {step}/{config.num_train_steps}  loss {record['loss']:.4f}  "
                    f"mlm {record['mlm_loss']:.4f} acc {record['mlm_accuracy']:.3f}  "
                    + (
                        f"nsp {record['nsp_loss']:.4f} acc {record['nsp_accuracy']:.3f}  "
                        if "nsp_loss" in record
                        else ""
                    )
                    + f"lr {record['learning_rate']:.2e}  {record['examples_per_second']:.1f} ex/s  "
                    f"ETA {eta:.0f} s",
                    flush=True,
                )
            if eval_dataset and ((eval_every and step % eval_every == 0) or step == last_step):
                _run_eval(trainer, eval_dataset, eval_writer, step)
            if step % config.checkpoint_every == 0 or step == last_step or stopping:
                print(f"saved checkpoint {trainer.save()}", flush=True)
                log_file.flush()
                if trainer.chief:  # MODEL_DIR/curves.png, from the logs just written
                    plot_pretraining(config.model_dir)
    writer.flush()
    return history
