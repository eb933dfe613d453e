"""The custom train step: same result on one device and on 2 replicas; checkpoints resume exactly."""

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.modeling.config import BertConfig
from bert_tf.training.train_metrics import metrics_from_sums
from bert_tf.training.trainer import TrainConfig, Trainer
from tests.bert_tf.conftest import GLOBAL_BATCH


def make_trainer(strategy, model_dir, vocab_size, steps=10, **overrides):
    config = BertConfig.named(
        "tiny", vocab_size, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    train = TrainConfig(
        model_dir=str(model_dir),
        train_batch_size=GLOBAL_BATCH,
        max_seq_length=64,
        max_predictions_per_seq=10,
        num_train_steps=steps,
        num_warmup_steps=2,
        learning_rate=1e-3,
        **overrides,
    )
    return Trainer(strategy, config, train)


def run(trainer, batch, steps):
    dataset = trainer.strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors(batch).repeat()
    )
    trainer.run_steps(iter(dataset), steps)
    return metrics_from_sums(trainer.accumulators.read())


def test_batch_has_int32_features(global_batch):
    assert global_batch["input_ids"].dtype == tf.int32 and global_batch["input_ids"].shape == (
        GLOBAL_BATCH,
        64,
    )
    assert global_batch["masked_lm_weights"].dtype == tf.float32


@pytest.mark.slow
def test_one_device_and_two_replicas_give_the_same_loss_and_update(tmp_path, global_batch, vocab):
    single = make_trainer(tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path / "a", len(vocab))
    mirrored = make_trainer(
        tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]), tmp_path / "b", len(vocab)
    )
    assert mirrored.strategy.num_replicas_in_sync == 2
    mirrored.model.set_weights(single.model.get_weights())
    metrics_single = run(single, global_batch, 2)
    metrics_mirrored = run(mirrored, global_batch, 2)
    for name in ("loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "grad_norm"):
        assert np.isclose(metrics_single[name], metrics_mirrored[name], rtol=1e-5, atol=1e-6), name
    assert single.step == mirrored.step == 2
    for a, b in zip(single.model.get_weights(), mirrored.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=2e-6)
    assert metrics_single["loss"] > 5  # a real, untrained loss (about ln 30522 + ln 2)
    evaluations = [
        t.evaluate(
            t.strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(global_batch))
        )
        for t in (single, mirrored)
    ]
    assert evaluations[0]["examples"] == evaluations[1]["examples"] == GLOBAL_BATCH
    for name in ("loss", "mlm_accuracy", "nsp_accuracy"):
        assert np.isclose(evaluations[0][name], evaluations[1][name], rtol=1e-5, atol=1e-6), name


def test_loss_goes_down_on_a_repeated_batch(tmp_path, global_batch, vocab):
    trainer = make_trainer(
        tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path, len(vocab), steps=40
    )
    first = run(trainer, global_batch, 1)
    trainer.accumulators.reset()
    run(trainer, global_batch, 20)
    trainer.accumulators.reset()
    last = run(trainer, global_batch, 1)
    assert last["loss"] < first["loss"] - 2.0


@pytest.mark.slow
def test_checkpoint_resume_restores_model_optimizer_and_step(tmp_path, global_batch, vocab):
    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    trainer = make_trainer(strategy, tmp_path, len(vocab))
    run(trainer, global_batch, 3)
    trainer.save()
    resumed = make_trainer(strategy, tmp_path, len(vocab))
    assert "resumed" in resumed.restore() and resumed.step == 3
    for a, b in zip(trainer.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(trainer.optimizer.variables, resumed.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    # Both continue identically (no dropout): the resumed run is the uninterrupted run.
    run(trainer, global_batch, 2)
    run(resumed, global_batch, 2)
    for a, b in zip(trainer.model.get_weights(), resumed.model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_batch_not_divisible_by_replicas_is_refused(tmp_path, vocab):
    config = BertConfig.named("tiny", len(vocab))
    with pytest.raises(ValueError, match="not divisible"):
        Trainer(
            tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]),
            config,
            TrainConfig(model_dir=str(tmp_path), train_batch_size=7),
        )


def test_nan_loss_stops_training_and_keeps_the_last_good_checkpoint(tmp_path, global_batch, vocab):
    from bert_tf.training.training_loop import TrainingDiverged, train_loop

    trainer = make_trainer(
        tf.distribute.OneDeviceStrategy("/cpu:0"),
        tmp_path,
        len(vocab),
        steps=8,
        log_every=1,
        checkpoint_every=2,
    )
    run_steps = trainer.run_steps

    def poisoned(iterator, num_steps):  # from step 3 on, the loss sums turn into NaN
        run_steps(iterator, num_steps)
        if trainer.step >= 3:
            trainer.accumulators.variables["mlm_nll"].assign(float("nan"))

    trainer.run_steps = poisoned
    dataset = trainer.strategy.experimental_distribute_dataset(
        tf.data.Dataset.from_tensors(global_batch).repeat()
    )
    with pytest.raises(
        TrainingDiverged, match="loss is nan at step 3; last good checkpoint: .*ckpt-2"
    ):
        train_loop(trainer, iter(dataset))
    assert trainer.manager.latest_checkpoint.endswith("ckpt-2")


def test_freeze_encoder_trains_only_the_heads(tmp_path, global_batch, vocab):
    from bert_tf.modeling.model import backbone_of

    trainer = make_trainer(
        tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path, len(vocab), freeze_encoder=True
    )
    backbone = [w.numpy().copy() for w in backbone_of(trainer.model).weights]
    heads = {w.path: w.numpy().copy() for w in trainer.model.trainable_weights}
    assert heads and not any(path.startswith("token_embedding") for path in heads)
    run(trainer, global_batch, 2)
    for before, weight in zip(backbone, backbone_of(trainer.model).weights):
        np.testing.assert_array_equal(before, weight.numpy())
    assert all(
        not np.array_equal(value, w.numpy())
        for w in trainer.model.trainable_weights
        for path, value in heads.items()
        if path == w.path and "bias" not in path
    )


def test_a_fresh_model_starts_its_token_embeddings_from_the_corpus_sample(tmp_path):
    """The co-occurrence start: the table is `cooccurrence_embeddings` of the sample at the config's
    range, its seconds are on the budget's clock, and without a sample it is a one-line error."""
    from bert_tf.modeling.cooccurrence import cooccurrence_embeddings
    from bert_tf.modeling.model import backbone_of

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    ids = np.random.default_rng(0).integers(5, 60, (50, 16))
    trainer = make_trainer(strategy, tmp_path, 64, cooccurrence_embeddings=True)
    said = trainer.restore(lambda: (ids, [0, 1, 2, 3]))
    assert "co-occurrence token embeddings of 50 records" in said
    table = backbone_of(trainer.model).token_embedding.embeddings.numpy()
    expected = cooccurrence_embeddings(ids, 64, 128, [0, 1, 2, 3], std=0.02)
    np.testing.assert_allclose(table, expected, rtol=1e-6)
    assert float(trainer.training_seconds.numpy()) > 0
    with pytest.raises(ValueError, match="--cooccurrence_embeddings needs the training records"):
        make_trainer(strategy, tmp_path / "b", 64, cooccurrence_embeddings=True).restore()
