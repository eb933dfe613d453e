"""What the training loop logs: per-replica running sums of the loss terms and of the MLM's top
predictions, and the metrics made from them (token-weighted MLM means, example-weighted NSP means,
`mlm_top10_share` — how much of the MLM's guessing goes to its ten favourite tokens, the measure of the
frequent-token plateau).

Example:
    >>> metrics_from_sums({"mlm_nll": 6.0, "mlm_weight": 3.0, "mlm_correct": 1.0, "nsp_count": 0.0,
    ...                    "grad_norm": 2.0, "steps": 2.0})
    {'mlm_loss': 2.0, 'mlm_accuracy': 0.3333333333333333, 'grad_norm': 1.0, 'loss': 2.0}
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

_SUMS = (
    "mlm_nll",
    "mlm_weight",
    "mlm_correct",
    "nsp_nll",
    "nsp_count",
    "nsp_correct",
    "grad_norm",
    "examples",
    "tokens",
    "steps",
)


# How many of the most predicted tokens the plateau measure looks at (`mlm_top10_share`).
TOP_PREDICTED = 10


class Accumulators:
    """Per-replica running sums (SyncOnRead, SUM): cheap to add to, summed over replicas on read.
    The scalars of `_SUMS`, and `predicted`: how often each token id was the MLM's top prediction."""

    def __init__(self, vocab_size: int):
        shapes = {name: [] for name in _SUMS} | {"predicted": [vocab_size]}
        self.variables = {
            name: tf.Variable(
                tf.zeros(shape),
                trainable=False,
                name=name,
                synchronization=tf.VariableSynchronization.ON_READ,
                aggregation=tf.VariableAggregation.SUM,
            )
            for name, shape in shapes.items()
        }

    def add(self, values: dict) -> None:
        for name, value in values.items():
            self.variables[name].assign_add(tf.cast(value, tf.float32))

    def read(self) -> dict:
        values = {name: variable.numpy() for name, variable in self.variables.items()}
        return {name: value if value.ndim else float(value) for name, value in values.items()}

    def reset(self) -> None:
        for variable in self.variables.values():
            variable.assign(tf.zeros_like(variable))


def top_predicted_share(predicted: np.ndarray) -> float:
    """The share of MLM predictions that fall on the TOP_PREDICTED tokens predicted most often: near
    1 while a model predicts only "the , . of" (the frequent-token plateau), well below once it
    reads context.

    >>> top_predicted_share(np.array([90.0, 5, 5] + [0] * 20)), top_predicted_share(np.ones(40))
    (1.0, 0.25)
    """
    total = predicted.sum()
    return float(np.sort(predicted)[-TOP_PREDICTED:].sum() / total) if total else 0.0


def metrics_from_sums(sums: dict[str, float]) -> dict[str, float]:
    """Logged metrics from accumulated sums (token-weighted MLM means, example-weighted NSP
    means)."""

    def ratio(a: float, b: float) -> float:
        return a / b if b else 0.0

    metrics = {
        "mlm_loss": ratio(sums["mlm_nll"], sums["mlm_weight"]),
        "mlm_accuracy": ratio(sums["mlm_correct"], sums["mlm_weight"]),
        "grad_norm": ratio(sums["grad_norm"], sums["steps"]),
    }
    total = metrics["mlm_loss"]
    if sums["nsp_count"]:
        metrics["nsp_loss"] = ratio(sums["nsp_nll"], sums["nsp_count"])
        metrics["nsp_accuracy"] = ratio(sums["nsp_correct"], sums["nsp_count"])
        total += metrics["nsp_loss"]
    if "predicted" in sums:
        metrics["mlm_top10_share"] = top_predicted_share(sums["predicted"])
    metrics["loss"] = total
    return metrics
