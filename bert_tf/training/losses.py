"""Pre-training losses as *sums* (docs/recipe.md §6), so they can be normalised by global totals
across replicas.

MLM loss = Σ(weight · NLL) / Σ weight over the predicted slots; NSP loss = mean NLL over examples;
total = MLM + NSP. All in float32. Returning sums lets one replica of N compute its share of the
*global* mean exactly: share = local sum / global count, and the shares add up across replicas.

Example:
    >>> import tensorflow as tf
    >>> terms = mlm_terms(tf.constant([[1, 0]]), tf.constant([[1.0, 0.0]]), tf.math.log([[[0.5, 0.5], [0.9, 0.1]]]))
    >>> round(float(terms.nll_sum), 4), float(terms.weight_sum)
    (0.6931, 1.0)
"""

from __future__ import annotations

from typing import NamedTuple

import tensorflow as tf


class LossTerms(NamedTuple):
    nll_sum: tf.Tensor  # Σ weight · (−log p(label))
    weight_sum: tf.Tensor  # Σ weight (the normaliser)
    correct_sum: tf.Tensor  # Σ weight · [argmax == label]


def _terms(labels, weights, logits) -> LossTerms:
    logits = tf.cast(logits, tf.float32)
    weights = tf.cast(weights, tf.float32)
    labels = tf.cast(labels, tf.int32)
    nll = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits)
    correct = tf.cast(
        tf.equal(tf.argmax(logits, axis=-1, output_type=tf.int32), labels), tf.float32
    )
    return LossTerms(
        tf.reduce_sum(weights * nll), tf.reduce_sum(weights), tf.reduce_sum(weights * correct)
    )


def mlm_terms(masked_lm_ids, masked_lm_weights, mlm_logits) -> LossTerms:
    """Weighted MLM sums over [batch, predictions] slots; padded slots have weight 0."""
    return _terms(masked_lm_ids, masked_lm_weights, mlm_logits)


def nsp_terms(next_sentence_labels, nsp_logits) -> LossTerms:
    """NSP sums over the batch (label 1 = NotNext/random, 0 = IsNext)."""
    labels = tf.reshape(next_sentence_labels, [-1])
    return _terms(labels, tf.ones_like(labels, tf.float32), nsp_logits)


def safe_ratio(numerator, denominator):
    """numerator / denominator, 0 where the denominator is 0 (a batch without predictions)."""
    return tf.math.divide_no_nan(tf.cast(numerator, tf.float32), tf.cast(denominator, tf.float32))
