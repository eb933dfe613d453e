"""--gradient_accumulation_steps=N: N micro-batches per optimizer step give the update of one batch N
times larger (same records, dropout off), on one device and on 2 replicas."""

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.training.data import make_dataset
from bert_tf.training.train_metrics import metrics_from_sums
from tests.bert_tf.conftest import GLOBAL_BATCH
from tests.bert_tf.test_trainer import make_trainer


def run_accumulated(trainer, batch, steps):
    """`steps` optimizer steps, each on the records of `batch` (GLOBAL_BATCH of them), fed as the
    trainer's input pipeline feeds them: per replica, [N, micro, ...] elements."""
    accumulation = trainer.config.gradient_accumulation_steps

    def dataset_fn(context):
        micro = context.get_per_replica_batch_size(GLOBAL_BATCH) // accumulation
        records = tf.data.Dataset.from_tensors(batch).unbatch().batch(micro)
        return records.batch(accumulation).repeat() if accumulation > 1 else records.repeat()

    dataset = trainer.strategy.distribute_datasets_from_function(dataset_fn)
    trainer.run_steps(iter(dataset), steps)
    return metrics_from_sums(trainer.accumulators.read())


@pytest.mark.slow
@pytest.mark.parametrize(
    "devices, accumulation", [(["/cpu:0"], 4), (["/cpu:0", "/cpu:1"], 2)], ids=["one", "mirrored"]
)
def test_accumulated_micro_batches_equal_one_large_batch(
    tmp_path, global_batch, vocab, devices, accumulation
):
    reference = make_trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path / "a", len(vocab))
    strategy = (
        tf.distribute.MirroredStrategy(devices)
        if len(devices) > 1
        else tf.distribute.OneDeviceStrategy(devices[0])
    )
    accumulated = make_trainer(
        strategy, tmp_path / "b", len(vocab), gradient_accumulation_steps=accumulation
    )
    accumulated.model.set_weights(reference.model.get_weights())
    expected = run_accumulated(reference, global_batch, 2)
    got = run_accumulated(accumulated, global_batch, 2)
    assert reference.step == accumulated.step == 2  # one optimizer step per N micro-batches
    for name in ("loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "grad_norm"):
        assert np.isclose(expected[name], got[name], rtol=1e-5, atol=1e-6), name
    sums = accumulated.accumulators.read()
    assert sums["examples"] == 2 * GLOBAL_BATCH and sums["steps"] == pytest.approx(2)
    for a, b in zip(reference.model.get_weights(), accumulated.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-6)


def test_micro_batches_are_consecutive_records(pretraining_records):
    """The input side: N stacked micro-batches hold the records of one N-times-larger batch, in order."""
    pattern = [pretraining_records["pattern"]]
    large = next(iter(make_dataset(pattern, 8, 64, 10, is_training=True, seed=5)))
    stacked = next(
        iter(make_dataset(pattern, 2, 64, 10, is_training=True, seed=5, micro_batches=4))
    )
    assert stacked["input_ids"].shape == (4, 2, 64)
    np.testing.assert_array_equal(
        tf.reshape(stacked["input_ids"], [8, 64]).numpy(), large["input_ids"].numpy()
    )


def test_batch_not_divisible_into_micro_batches_is_refused(tmp_path, vocab):
    with pytest.raises(ValueError, match="gradient_accumulation_steps 3"):
        make_trainer(
            tf.distribute.OneDeviceStrategy("/cpu:0"),
            tmp_path,
            len(vocab),
            gradient_accumulation_steps=3,
        )
