"""LAMB as the large-batch BERT recipes define it (You et al. 2019, "Large Batch Optimization for
Deep Learning: Training BERT in 76 minutes"; NVIDIA's and the TF Model Garden's BERT trainers).

Per variable w with gradient g, at step t (bias-corrected Adam moments):

    m = β1·m + (1−β1)·g;   v = β2·v + (1−β2)·g²
    u = (m / (1−β1^t)) / (sqrt(v / (1−β2^t)) + ε) + λ·w           (decay *inside* the update)
    w = w − lr · (‖w‖ / ‖u‖) · u                                    (trust ratio; 1 if a norm is 0)

LayerNorm parameters and biases get neither the decay λ·w nor the trust ratio (plain Adam steps).
Written here because `keras.optimizers.Lamb` differs on both counts: Keras applies decoupled weight
decay outside the ratio, and its ratio also scales LayerNorm and bias updates — a user who copies a
published LAMB recipe would get another optimizer. tests/bert_tf/test_lamb.py checks one update
against the Model Garden's LAMB run in its own venv.

Example:
    >>> import numpy as np
    >>> w = keras.Variable(np.ones(4, np.float32), name="kernel")
    >>> lamb = Lamb(learning_rate=0.1, weight_decay_rate=0.0)
    >>> _ = lamb.apply_gradients([(np.full(4, 0.5, np.float32), w)])
    >>> [round(float(x), 4) for x in w.numpy()]  # trust ratio ‖w‖/‖u‖ = 1: an Adam step of lr
    [0.9, 0.9, 0.9, 0.9]
"""

from __future__ import annotations

import keras
from keras import ops

# Substrings of variable names that get no weight decay and no trust ratio: LayerNorm gamma/beta, biases.
NO_DECAY_NAMES = ("bias", "gamma", "beta")


@keras.saving.register_keras_serializable("bert_tf")
class Lamb(keras.optimizers.Optimizer):
    """Layer-wise adaptive moments with the weight decay inside the trust ratio (see the module)."""

    def __init__(
        self,
        learning_rate=0.001,
        beta_1=0.9,
        beta_2=0.999,
        epsilon=1e-6,
        weight_decay_rate=0.01,
        excluded_names=NO_DECAY_NAMES,
        name="lamb",
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        self.weight_decay_rate = weight_decay_rate
        self.excluded_names = tuple(excluded_names)

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._first_moments = [self.add_variable_from_reference(v, "m") for v in var_list]
        self._second_moments = [self.add_variable_from_reference(v, "v") for v in var_list]

    def adapts(self, variable) -> bool:
        """Whether `variable` gets weight decay and the trust ratio (not LayerNorm, not biases)."""
        return not any(name in variable.name for name in self.excluded_names)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        index = self._get_variable_index(variable)
        m, v = self._first_moments[index], self._second_moments[index]
        self.assign(m, self.beta_1 * m + (1.0 - self.beta_1) * gradient)
        self.assign(v, self.beta_2 * v + (1.0 - self.beta_2) * ops.square(gradient))
        m_hat = m / (1.0 - ops.power(ops.cast(self.beta_1, dtype), step))
        v_hat = v / (1.0 - ops.power(ops.cast(self.beta_2, dtype), step))
        update = m_hat / (ops.sqrt(v_hat) + self.epsilon)
        ratio = 1.0
        if self.adapts(variable):
            update = update + self.weight_decay_rate * variable
            weight_norm, update_norm = (
                ops.norm(ops.reshape(variable, [-1])),
                ops.norm(ops.reshape(update, [-1])),
            )
            trusted = ops.logical_and(weight_norm > 0, update_norm > 0)
            ratio = ops.where(trusted, weight_norm / ops.maximum(update_norm, 1e-30), 1.0)
        self.assign_sub(variable, ratio * ops.cast(learning_rate, dtype) * update)

    def get_config(self):
        return super().get_config() | dict(
            beta_1=self.beta_1,
            beta_2=self.beta_2,
            epsilon=self.epsilon,
            weight_decay_rate=self.weight_decay_rate,
            excluded_names=list(self.excluded_names),
        )
