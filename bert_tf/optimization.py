"""Optimizers and learning-rate schedule (docs/recipe.md §6): AdamW with decoupled weight decay, or
LAMB as the large-batch recipes define it (bert_tf/lamb.py), both skipping LayerNorm and bias
variables; linear warmup then polynomial (power 1 = linear) decay to 0.

Keras has no warmup+polynomial schedule, so `WarmupPolynomialDecay` is written here (30 lines).
Gradient clipping to a global norm (`--clip_norm`, 1.0 as in the original) is done in the train
step, *after* the cross-replica sum — Keras' `global_clipnorm` would clip each replica's partial
gradient instead.

Example:
    >>> schedule = WarmupPolynomialDecay(1e-4, warmup_steps=10, total_steps=110)
    >>> [round(float(schedule(s)), 7) for s in (0, 5, 10, 60, 110)]
    [0.0, 5e-05, 0.0001, 5e-05, 0.0]
"""

from __future__ import annotations

import keras
import tensorflow as tf

from bert_tf.lamb import NO_DECAY_NAMES, Lamb


@keras.saving.register_keras_serializable("bert_tf")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """lr = peak · step/warmup during warmup, then peak · (1 − progress)^power down to end_lr."""

    def __init__(
        self, peak_learning_rate, warmup_steps, total_steps, end_learning_rate=0.0, power=1.0
    ):
        self.peak_learning_rate = peak_learning_rate
        self.warmup_steps = warmup_steps
        self.total_steps = total_steps
        self.end_learning_rate = end_learning_rate
        self.power = power

    def __call__(self, step):
        step = tf.cast(step, tf.float32)
        warmup = tf.cast(max(self.warmup_steps, 1), tf.float32)
        decay_steps = tf.cast(max(self.total_steps - self.warmup_steps, 1), tf.float32)
        progress = tf.clip_by_value((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        decayed = (self.peak_learning_rate - self.end_learning_rate) * (
            1.0 - progress
        ) ** self.power + self.end_learning_rate
        return tf.where(step < self.warmup_steps, self.peak_learning_rate * step / warmup, decayed)

    def get_config(self):
        return dict(
            peak_learning_rate=self.peak_learning_rate,
            warmup_steps=self.warmup_steps,
            total_steps=self.total_steps,
            end_learning_rate=self.end_learning_rate,
            power=self.power,
        )


def create_optimizer(
    name: str, learning_rate, weight_decay: float = 0.01
) -> keras.optimizers.Optimizer:
    """AdamW (β 0.9/0.999, ε 1e-6) or LAMB (the same moments, decay inside the trust ratio); decay
    (and LAMB's trust ratio) excluded from LayerNorm and biases."""
    if name == "lamb":
        return Lamb(learning_rate, 0.9, 0.999, 1e-6, weight_decay_rate=weight_decay)
    if name != "adamw":
        raise ValueError(f"unknown optimizer {name!r}; expected 'adamw' or 'lamb'")
    optimizer = keras.optimizers.AdamW(
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
    )
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY_NAMES))
    return optimizer
