"""LAMB as the large-batch recipes define it: equal to the Model Garden's LAMB (run in its own venv) on
the same weights and gradients; LayerNorm and biases take plain Adam steps; not Keras' Lamb."""

import os
import subprocess

import keras
import numpy as np
import pytest

from bert_tf.training.lamb import NO_DECAY_NAMES, Lamb
from tools.reference_venv import QUIET_TF, REFERENCE_PROGRAMS, model_garden_python

NAMES = ["dense/kernel", "dense/bias", "layer_norm/gamma", "layer_norm/beta", "embeddings"]
SHAPES = [(8, 4), (4,), (4,), (4,), (10, 4)]
STEPS, LEARNING_RATE, DECAY = 3, 0.01, 0.01


def problem(seed=0):
    """Weights and STEPS gradients per variable (normal draws)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=s).astype(np.float32) for s in SHAPES]
    gradients = [[rng.normal(size=s).astype(np.float32) for s in SHAPES] for _ in range(STEPS)]
    return weights, gradients


def run_ours(optimizer, weights, gradients):
    """Weights after each step (variables named by their last path part, as Keras names them)."""
    variables = [keras.Variable(w, name=n.rsplit("/", 1)[-1]) for w, n in zip(weights, NAMES)]
    after = []
    for step_gradients in gradients:
        optimizer.apply_gradients(zip(step_gradients, variables))
        after.append([v.numpy() for v in variables])
    return after


@pytest.mark.slow
def test_updates_equal_the_model_gardens_lamb(tmp_path):
    weights, gradients = problem()
    inputs = {"names": np.array(NAMES), "learning_rate": np.float32(LEARNING_RATE),
              "weight_decay_rate": np.float32(DECAY), "excluded": np.array(NO_DECAY_NAMES)}  # fmt: skip
    for i, w in enumerate(weights):
        inputs[f"weight_{i}"] = w
        for step in range(STEPS):
            inputs[f"gradient_{step}_{i}"] = gradients[step][i]
    np.savez(tmp_path / "in.npz", **inputs)
    program = os.path.join(REFERENCE_PROGRAMS, "model_garden_lamb_steps.py")
    subprocess.run(
        [model_garden_python(), program, str(tmp_path / "in.npz"), str(tmp_path / "out.npz")],
        check=True, env=QUIET_TF, capture_output=True,
    )  # fmt: skip
    reference = np.load(tmp_path / "out.npz")
    ours = run_ours(Lamb(LEARNING_RATE, weight_decay_rate=DECAY), weights, gradients)
    for step in range(STEPS):
        for i, name in enumerate(NAMES):
            np.testing.assert_allclose(
                ours[step][i], reference[f"weight_{step}_{i}"], rtol=0, atol=1e-6,
                err_msg=f"{name} after step {step + 1}",
            )  # fmt: skip


def test_layer_norm_and_biases_take_plain_adam_steps_and_kernels_decay_inside_the_ratio():
    weights, gradients = problem(1)
    after = run_ours(Lamb(LEARNING_RATE, weight_decay_rate=DECAY), weights, gradients[:1])[0]
    for i, name in enumerate(NAMES):
        g = gradients[0][i]
        update = g / (np.abs(g) + 1e-6)  # step 1: m̂ = g, v̂ = g²
        if any(part in name for part in NO_DECAY_NAMES):
            expected = weights[i] - LEARNING_RATE * update
        else:
            update = update + DECAY * weights[i]
            ratio = np.linalg.norm(weights[i]) / np.linalg.norm(update)
            expected = weights[i] - LEARNING_RATE * ratio * update
        np.testing.assert_allclose(after[i], expected, rtol=1e-5, atol=1e-7, err_msg=name)


def test_keras_lamb_is_another_optimizer():
    """Why bert_tf/training/lamb.py exists: Keras' Lamb puts decay outside the ratio and scales biases too."""
    weights, gradients = problem(2)
    ours = run_ours(Lamb(LEARNING_RATE, weight_decay_rate=DECAY), weights, gradients[:1])[0]
    keras_lamb = keras.optimizers.Lamb(LEARNING_RATE, weight_decay=DECAY, epsilon=1e-6)
    theirs = run_ours(keras_lamb, weights, gradients[:1])[0]
    bias = NAMES.index("dense/bias")
    assert np.abs(ours[bias] - theirs[bias]).max() > 1e-4
