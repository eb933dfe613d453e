"""Optimizers and learning-rate schedule (docs/recipe.md §6): AdamW with decoupled weight decay, or
LAMB as the large-batch recipes define it (bert_tf/training/lamb.py), both skipping LayerNorm and bias
variables; linear warmup then polynomial (power 1 = linear) decay to 0.

Keras has no warmup+polynomial schedule, so `WarmupPolynomialDecay` is written here (30 lines), and
`TimeBudgetSchedule` lays the same shape over minutes of training (`bert_tf.train --train_minutes`).
Gradient clipping to a global norm (`--clip_norm`, 1.0 as in the original) is done in the train
step, *after* the cross-replica sum — Keras' `global_clipnorm` would clip each replica's partial
gradient instead.

Example:
    >>> schedule = WarmupPolynomialDecay(1e-4, warmup_steps=10, total_steps=110)
    >>> [round(float(schedule(s)), 7) for s in (0, 5, 10, 60, 110)]
    [0.0, 5e-05, 0.0001, 5e-05, 0.0]
"""

from __future__ import annotations

import re

import keras
import tensorflow as tf

from bert_tf.training.lamb import NO_DECAY_NAMES, Lamb


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


@keras.saving.register_keras_serializable("bert_tf")
class TimeBudgetSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Warmup + linear decay laid over a time budget instead of a step count (as Cramming ties its
    one-cycle schedule to the budget): the rate is a function of `seconds`, a variable the training
    loop sets to the training time spent so far (and that is checkpointed, so a resumed run goes on
    along the same budget). The step the optimizer passes is ignored.

    >>> seconds = tf.Variable(0.0)
    >>> schedule = TimeBudgetSchedule(1e-3, warmup_seconds=60, budget_seconds=600, seconds=seconds)
    >>> def rate_at(t):
    ...     seconds.assign(t)
    ...     return round(float(schedule(step=0)), 6)
    >>> [rate_at(t) for t in (30.0, 60.0, 330.0, 600.0)]
    [0.0005, 0.001, 0.0005, 0.0]
    """

    def __init__(self, peak_learning_rate, warmup_seconds, budget_seconds, seconds: tf.Variable):
        self.over_time = WarmupPolynomialDecay(peak_learning_rate, warmup_seconds, budget_seconds)
        self.seconds = seconds

    def __call__(self, step):
        del step  # the budget's clock, not the step count, sets the rate
        return self.over_time(self.seconds)

    def get_config(self):
        config = self.over_time.get_config()
        return dict(
            peak_learning_rate=config["peak_learning_rate"],
            warmup_seconds=config["warmup_steps"],
            budget_seconds=config["total_steps"],
        )


def create_optimizer(
    name: str,
    learning_rate,
    weight_decay: float = 0.01,
    layer_decay: float = 1.0,
    num_layers: int = 0,
    ema_momentum: float = 0.0,
) -> keras.optimizers.Optimizer:
    """AdamW (β 0.9/0.999, ε 1e-6) or LAMB (the same moments, decay inside the trust ratio); decay
    (and LAMB's trust ratio) excluded from LayerNorm and biases. `layer_decay` < 1 (AdamW only)
    lowers the rate layer by layer below the top of a `num_layers` encoder (`LayerwiseAdamW`).
    `ema_momentum` > 0 (AdamW only) keeps Keras' exponential moving average of the weights, which
    `fit` puts in the model when it ends (evaluate with `keras.callbacks.SwapEMAWeights`)."""
    if name == "lamb":
        if layer_decay != 1.0 or ema_momentum:
            raise ValueError("layer-wise decay and weight averaging are implemented for adamw only")
        return Lamb(learning_rate, 0.9, 0.999, 1e-6, weight_decay_rate=weight_decay)
    if name != "adamw":
        raise ValueError(f"unknown optimizer {name!r}; expected 'adamw' or 'lamb'")
    if not 0.0 < layer_decay <= 1.0:
        raise ValueError(f"layer_decay must be in (0, 1], got {layer_decay}")
    if not 0.0 <= ema_momentum < 1.0:
        raise ValueError(f"ema_momentum must be in [0, 1), got {ema_momentum}")
    moments = dict(
        learning_rate=learning_rate,
        weight_decay=weight_decay,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        use_ema=ema_momentum > 0,
        ema_momentum=ema_momentum or 0.99,  # Keras' default when unused
    )
    if layer_decay == 1.0:
        optimizer = keras.optimizers.AdamW(**moments)
    else:
        optimizer = LayerwiseAdamW(num_layers, layer_decay, **moments)
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY_NAMES))
    return optimizer


def layer_depth(variable_path: str, num_layers: int) -> int:
    """Where a BertBackbone variable sits: 0 for the embeddings, i + 1 for `transformer_layer_i`,
    num_layers + 1 for everything above the encoder (pooler, task heads).

    >>> [layer_depth(p, 6) for p in ("token_embedding/embeddings", "transformer_layer_2/ffn/kernel",
    ...                              "pooled_dense/kernel", "classifier/bias")]
    [0, 3, 7, 7]
    """
    top = variable_path.split("/")[0]
    if top in (
        "token_embedding",
        "position_embedding",
        "segment_embedding",
        "embeddings_layer_norm",
    ):
        return 0
    match = re.fullmatch(r"transformer_layer_(\d+)", top)
    return int(match.group(1)) + 1 if match else num_layers + 1


@keras.saving.register_keras_serializable("bert_tf")
class LayerwiseAdamW(keras.optimizers.AdamW):
    """AdamW with layer-wise learning-rate decay (ELECTRA's fine-tuning recipe): the variables at
    depth d (`layer_depth`) step with lr · decay^(num_layers + 1 − d), so the task head moves at the
    full rate and the embeddings least. Keras optimizers take one rate for all variables, hence this
    subclass. The decoupled weight decay is scaled alike (Keras applies it with the one global
    rate, so it is moved into `update_step`).

    >>> optimizer = LayerwiseAdamW(num_layers=6, layer_decay=0.8, learning_rate=1e-4)
    >>> round(optimizer.scale_of("transformer_layer_5/ffn/kernel"), 3), optimizer.scale_of("classifier/bias")
    (0.8, 1.0)
    """

    def __init__(self, num_layers: int, layer_decay: float, **kwargs):
        super().__init__(**kwargs)
        self.num_layers, self.layer_decay = num_layers, layer_decay
        self._scales: list[float] = []

    def scale_of(self, variable_path: str) -> float:
        return self.layer_decay ** (
            self.num_layers + 1 - layer_depth(variable_path, self.num_layers)
        )

    def build(self, var_list):
        if not self.built:
            self._scales = [self.scale_of(v.path) for v in var_list]
        super().build(var_list)

    def _apply_weight_decay(self, variables):
        pass  # applied per variable, at its own rate, in update_step

    def update_step(self, gradient, variable, learning_rate):
        learning_rate = learning_rate * self._scales[self._get_variable_index(variable)]
        if self.weight_decay and self._use_weight_decay(variable):
            decay = keras.ops.cast(self.weight_decay * learning_rate, variable.dtype)
            variable.assign_sub(variable * decay)
        super().update_step(gradient, variable, learning_rate)

    def get_config(self):
        return {
            **super().get_config(),
            "num_layers": self.num_layers,
            "layer_decay": self.layer_decay,
        }
