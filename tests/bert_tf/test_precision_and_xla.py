"""Precision policies, XLA compilation and the TPU path, as far as a CPU can run them."""

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.training.distribute import tpu_cluster_resolver
from tests.bert_tf.test_trainer import make_trainer, run

ONE_DEVICE = "/cpu:0"


@pytest.mark.slow
def test_xla_compiled_step_matches_the_plain_step(tmp_path, global_batch, vocab):
    """TPUStrategy compiles the step with XLA; on CPU --jit_compile runs the same compiled step."""
    plain = make_trainer(
        tf.distribute.OneDeviceStrategy(ONE_DEVICE), tmp_path / "plain", len(vocab)
    )
    xla = make_trainer(
        tf.distribute.OneDeviceStrategy(ONE_DEVICE), tmp_path / "xla", len(vocab), jit_compile=True
    )
    xla.model.set_weights(plain.model.get_weights())
    expected, got = run(plain, global_batch, 2), run(xla, global_batch, 2)
    for name in ("loss", "mlm_loss", "nsp_loss", "grad_norm"):
        assert np.isclose(got[name], expected[name], rtol=1e-4), name
    for a, b in zip(plain.model.get_weights(), xla.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)


@pytest.mark.slow
def test_xla_step_under_two_replicas(tmp_path, global_batch, vocab):
    mirrored = make_trainer(
        tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), tmp_path, len(vocab), jit_compile=True
    )
    assert np.isfinite(run(mirrored, global_batch, 2)["loss"]) and mirrored.step == 2


@pytest.mark.slow
@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_keeps_float32_variables_heads_and_losses(
    tmp_path, global_batch, vocab, policy
):
    reference = make_trainer(
        tf.distribute.OneDeviceStrategy(ONE_DEVICE), tmp_path / "fp32", len(vocab)
    )
    mixed = make_trainer(
        tf.distribute.OneDeviceStrategy(ONE_DEVICE),
        tmp_path / policy,
        len(vocab),
        dtype_policy=policy,
    )
    mixed.model.set_weights(reference.model.get_weights())
    assert all(v.dtype == "float32" for v in mixed.model.weights)
    backbone = mixed.model.get_layer("bert")
    assert backbone.dtype_policy.compute_dtype == policy.split("_")[1]
    inputs = {
        k: global_batch[k]
        for k in ("input_ids", "input_mask", "segment_ids", "masked_lm_positions")
    }
    outputs = mixed.model(inputs)
    assert outputs["mlm_logits"].dtype == tf.float32 and outputs["nsp_logits"].dtype == tf.float32
    expected, got = run(reference, global_batch, 1), run(mixed, global_batch, 1)
    assert np.isclose(got["loss"], expected["loss"], rtol=0.02), (got["loss"], expected["loss"])
    assert np.isclose(got["grad_norm"], expected["grad_norm"], rtol=0.1)
    assert mixed.step == 1  # finite gradients: the loss-scaled step was applied, not skipped
    if policy == "mixed_float16":
        assert mixed.optimizer.__class__.__name__ == "LossScaleOptimizer"


def test_tpu_resolver_from_a_grpc_address():
    resolver = tpu_cluster_resolver("grpc://10.0.0.2:8470")
    assert resolver.master() == "grpc://10.0.0.2:8470"
    assert resolver.cluster_spec().as_dict() == {"worker": ["10.0.0.2:8470"]}
