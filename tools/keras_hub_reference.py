"""The like-for-like reference of tools/convergence.py: keras-hub's own `BertMaskedLM.fit` training
tiny BERT (MLM only) on our records with our optimizer and schedule, so its curve and held-out
accuracy can be set beside our trainer's.

    >>> result = fit_masked_lm(30522, "train-*.tfrecord", "eval-*.tfrecord", 64, 10, 64, 1e-3, 100,
    ...                        10, 20)  # doctest: +SKIP
"""

from __future__ import annotations

import time

import keras


def _to_fit(batch):
    """Our record names → BertMaskedLM's (inputs, labels, sample weights)."""
    inputs = {
        "token_ids": batch["input_ids"],
        "segment_ids": batch["segment_ids"],
        "padding_mask": batch["input_mask"],
        "mask_positions": batch["masked_lm_positions"],
    }
    return inputs, batch["masked_lm_ids"], batch["masked_lm_weights"]


def _fit_data(train: str, held_out: str, batch_size: int, shape: tuple, eval_batches: int):
    """(endless training batches, the first `eval_batches` held-out batches) from our records."""
    from bert_tf.training.data import make_dataset

    data = make_dataset([train], batch_size, *shape, is_training=True, seed=1).map(_to_fit)
    held = make_dataset([held_out], batch_size, *shape, is_training=False)
    return data, held.map(_to_fit).take(eval_batches)


def _compiled_masked_lm(bert_config, schedule):
    """keras-hub's BertMaskedLM on the stock BertBackbone, compiled with AdamW (no decay on
    LayerNorm/bias), clip 1.0 and a weighted MLM loss and accuracy."""
    import keras_hub

    from bert_tf.modeling.model import build_backbone
    from bert_tf.training.optimization import create_optimizer

    model = keras_hub.models.BertMaskedLM(build_backbone(bert_config), preprocessor=None)
    optimizer = create_optimizer("adamw", schedule)
    optimizer.global_clipnorm = 1.0
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def fit_masked_lm(
    vocab_size: int,
    train: str,
    held_out: str,
    max_seq_length: int,
    max_predictions: int,
    batch_size: int,
    learning_rate: float,
    steps: int,
    log_every: int,
    eval_batches: int,
) -> dict:
    """Trains tiny BERT with `BertMaskedLM.fit` on our records (AdamW, 10% warmup then linear decay,
    clip 1.0, seed 1); {"log": a point every `log_every` steps, "eval": held-out loss/accuracy}."""
    from bert_tf.modeling.config import BertConfig
    from bert_tf.training.optimization import WarmupPolynomialDecay

    keras.utils.set_random_seed(1)
    shape = (max_seq_length, max_predictions)
    data, eval_data = _fit_data(train, held_out, batch_size, shape, eval_batches)
    schedule = WarmupPolynomialDecay(learning_rate, steps // 10, steps)
    model = _compiled_masked_lm(BertConfig.named("tiny", vocab_size), schedule)
    history = model.fit(
        data,
        steps_per_epoch=log_every,
        epochs=steps // log_every,
        shuffle=False,  # the record stream is shuffled already
        verbose=0,
    )
    loss, accuracy = model.evaluate(eval_data, verbose=0)
    steps = [log_every * (i + 1) for i in range(len(history.history["loss"]))]
    return {
        "log": [
            {"step": step, "mlm_loss": loss_value, "mlm_accuracy": acc}
            for step, loss_value, acc in zip(
                steps, history.history["loss"], history.history["accuracy"]
            )
        ],
        "eval": {"mlm_loss": loss, "mlm_accuracy": accuracy},
    }


class TimeBudget(keras.callbacks.Callback):
    """Lays the schedule over a budget of training seconds (sets `seconds` before every batch),
    stops `fit` when the budget is spent, and evaluates the held-out batches at every epoch's end
    (evaluation time not counted): `points` holds {minutes, mlm_accuracy, mlm_loss}."""

    def __init__(self, budget_seconds: float, seconds, held_out):
        super().__init__()
        self.budget, self.seconds, self.held_out = budget_seconds, seconds, held_out
        self.points, self.excluded, self.started = [], 0.0, None

    def elapsed(self) -> float:
        return time.time() - self.started - self.excluded

    def on_train_begin(self, logs=None):
        self.started = time.time()

    def on_train_batch_begin(self, batch, logs=None):
        self.seconds.assign(self.elapsed())
        if self.elapsed() >= self.budget:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        minutes, begin = self.elapsed() / 60, time.time()
        loss, accuracy = self.model.evaluate(self.held_out, verbose=0)
        self.points.append({"minutes": minutes, "mlm_accuracy": accuracy, "mlm_loss": loss})
        self.excluded += time.time() - begin
        print(f"keras-hub: {minutes:.1f} min, held-out MLM accuracy {accuracy:.3f}", flush=True)


def fit_masked_lm_for_minutes(
    vocab_size: int,
    size: str,
    train: str,
    held_out: str,
    batch_size: int,
    learning_rate: float,
    minutes: float,
    eval_every: int,
    eval_batches: int,
) -> list[dict]:
    """`BertMaskedLM.fit` of a `size` BERT for `minutes` of training on our 128-token records
    (warmup 10% + linear decay over the budget, as `bert_tf.train --train_minutes`); the held-out
    points every `eval_every` steps and at the end."""
    import tensorflow as tf

    from bert_tf.modeling.config import BertConfig
    from bert_tf.training.optimization import TimeBudgetSchedule

    keras.utils.set_random_seed(1)
    data, eval_data = _fit_data(train, held_out, batch_size, (128, 20), eval_batches)
    seconds = tf.Variable(0.0, trainable=False)
    budget = minutes * 60
    schedule = TimeBudgetSchedule(learning_rate, 0.1 * budget, budget, seconds=seconds)
    model = _compiled_masked_lm(BertConfig.named(size, vocab_size), schedule)
    clock = TimeBudget(budget, seconds, eval_data)
    model.fit(data, steps_per_epoch=eval_every, epochs=10**6, callbacks=[clock], shuffle=False,
              verbose=0)  # fmt: skip
    return clock.points
