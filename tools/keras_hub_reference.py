"""The like-for-like reference of tools/convergence.py: keras-hub's own `BertMaskedLM.fit` training
tiny BERT (MLM only) on our records with our optimizer and schedule, so its curve and held-out
accuracy can be set beside our trainer's.

    >>> result = fit_masked_lm(30522, "train-*.tfrecord", "eval-*.tfrecord", 64, 10, 64, 1e-3, 100,
    ...                        10, 20)  # doctest: +SKIP
"""

from __future__ import annotations


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
    import keras
    import keras_hub

    from bert_tf.config import BertConfig
    from bert_tf.data import make_dataset
    from bert_tf.model import build_backbone
    from bert_tf.optimization import WarmupPolynomialDecay, create_optimizer

    keras.utils.set_random_seed(1)

    def to_fit(batch):  # our record names → BertMaskedLM's (inputs, labels, sample weights)
        return (
            {
                "token_ids": batch["input_ids"],
                "segment_ids": batch["segment_ids"],
                "padding_mask": batch["input_mask"],
                "mask_positions": batch["masked_lm_positions"],
            },
            batch["masked_lm_ids"],
            batch["masked_lm_weights"],
        )

    shape = (max_seq_length, max_predictions)
    data = make_dataset([train], batch_size, *shape, is_training=True, seed=1).map(to_fit)
    eval_data = (
        make_dataset([held_out], batch_size, *shape, is_training=False)
        .map(to_fit)
        .take(eval_batches)
    )
    model = keras_hub.models.BertMaskedLM(
        build_backbone(BertConfig.named("tiny", vocab_size)), preprocessor=None
    )
    optimizer = create_optimizer("adamw", WarmupPolynomialDecay(learning_rate, steps // 10, steps))
    optimizer.global_clipnorm = 1.0
    model.compile(
        optimizer=optimizer,
        loss=keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, reduction="mean_with_sample_weight"
        ),
        weighted_metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    history = model.fit(
        data,
        steps_per_epoch=log_every,
        epochs=steps // log_every,
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
