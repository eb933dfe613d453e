"""Layer-wise learning-rate decay: each variable's step is decay^(L + 1 − depth) times the plain AdamW
step for the same gradients."""

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.finetuning.classifier import build_classifier
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_backbone
from bert_tf.training.optimization import create_optimizer, layer_depth


def test_each_layer_steps_at_its_decayed_rate():
    backbone = build_backbone(BertConfig.from_name_or_file("tiny", 50))
    classifier = build_classifier(backbone, 2, dropout=0.0)
    inputs = {
        "input_word_ids": tf.constant([[2, 7, 9, 3, 0], [2, 11, 3, 0, 0]]),
        "input_mask": tf.constant([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0]]),
        "input_type_ids": tf.zeros([2, 5], tf.int32),
    }
    variables = classifier.trainable_variables
    with tf.GradientTape() as tape:
        logits = classifier(inputs, training=True)
        loss = tf.reduce_mean(
            tf.nn.sparse_softmax_cross_entropy_with_logits(tf.constant([0, 1]), logits)
        )
    gradients = tape.gradient(loss, variables)
    start = [v.numpy().copy() for v in variables]

    def step(layer_decay: float) -> list[np.ndarray]:
        for variable, value in zip(variables, start):
            variable.assign(value)
        optimizer = create_optimizer(
            "adamw", 1e-3, layer_decay=layer_decay, num_layers=backbone.num_layers
        )
        optimizer.apply_gradients(zip(gradients, variables))
        return [v.numpy() - value for v, value in zip(variables, start)]

    plain, decayed = step(1.0), step(0.5)
    depths = [layer_depth(v.path, backbone.num_layers) for v in variables]
    assert set(depths) == {0, 1, 2, 3}  # embeddings, two transformer layers, pooler + classifier
    for variable, depth, full, scaled in zip(variables, depths, plain, decayed):
        assert np.abs(full).max() > 0, variable.path
        # atol: two float32 roundings of values near 1.0 (LayerNorm gamma); steps are ≈ 1e-4
        np.testing.assert_allclose(
            scaled, 0.5 ** (3 - depth) * full, rtol=1e-2, atol=2e-7, err_msg=variable.path
        )


def test_layer_decay_is_checked():
    with pytest.raises(ValueError, match="layer_decay"):
        create_optimizer("adamw", 1e-3, layer_decay=1.5, num_layers=2)
    with pytest.raises(ValueError, match="adamw only"):
        create_optimizer("lamb", 1e-3, layer_decay=0.8, num_layers=2)
