"""`bert_tf.finetune --task=classification`: a class per text or text pair, in named steps — read the
rows, build the inputs, fit (an optional linear probe first, then the whole model), export a SavedModel
whose `serving_default(text, text_b)` returns `probabilities` and `label`, write results.

Example (a random-init tiny encoder on a two-class CSV):
    >>> cfg = FineTuneConfig(train_file="reviews.csv", output_dir="runs/sentiment")  # doctest: +SKIP
    >>> finetune_classification(cfg)["eval_accuracy"]  # doctest: +SKIP
    0.71
"""

from __future__ import annotations

import keras

from bert_tf.finetuning.classifier import (
    ClassifierServingModule,
    build_classifier,
    make_classifier_dataset,
    read_labelled_rows,
    set_encoder_trainable,
    split_held_out,
)
from bert_tf.finetuning.finetune_common import (
    FineTuneConfig,
    adamw,
    encoder_and_vocab,
    export_saved_model,
    new_log,
    write_results,
)
from bert_tf.serving.text_encoding import TextEncoder


def compile_classifier(classifier: keras.Model, peak_lr: float, steps: int, **optimizer_options):
    """`finetune_common.adamw` over `steps`, softmax cross-entropy, accuracy."""
    classifier.compile(
        optimizer=adamw(peak_lr, steps, **optimizer_options),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )


def classification_rows(cfg: FineTuneConfig) -> dict:
    """{train, eval, label_names, available, skipped}: the rows, checked to make a classifier (≥ 2
    classes in training, a non-empty held-out split with no label unseen in training)."""
    if cfg.epochs < 1 or cfg.probe_epochs < 0:  # the held-out metrics are the last epoch's
        raise ValueError(
            f"--epochs={cfg.epochs} --probe_epochs={cfg.probe_epochs}: fine-tune for at least 1 "
            "epoch (--freeze_encoder trains only the classifier layer)"
        )
    labels = tuple(cfg.labels) if cfg.labels else None
    columns = (cfg.text_column, cfg.label_column, cfg.text_b_column, labels)
    rows, skipped = read_labelled_rows(cfg.train_file, *columns)
    if cfg.eval_file:
        train_rows, (eval_rows, _) = rows, read_labelled_rows(cfg.eval_file, *columns)
    else:
        train_rows, eval_rows = split_held_out(rows, cfg.eval_fraction)
    available, train_rows = len(train_rows), train_rows[: cfg.max_train_examples]
    label_names = list(labels) if labels else sorted({row.label for row in train_rows})
    classes = len({row.label for row in train_rows})
    if len(label_names) < 2 or classes < 2:
        raise ValueError(
            f"training rows hold {classes} class(es); a classifier needs at least 2 "
            "(check --label_column/--labels)"
        )
    if not eval_rows:
        raise ValueError(
            "the held-out split is empty: give more rows, a larger --eval_fraction or --eval_file"
        )
    unknown = sorted({row.label for row in eval_rows} - set(label_names))
    if unknown:
        raise ValueError(f"held-out labels {unknown} never occur in training data")
    return dict(
        train=train_rows,
        eval=eval_rows,
        label_names=label_names,
        available=available,
        skipped=skipped,
    )


def fit_classifier(cfg: FineTuneConfig, classifier, backbone, train, held_out, steps_per_epoch):
    """Fits `cfg.probe_epochs` of LP-FT's linear probe (the classifier layer alone on the frozen
    encoder), then `cfg.epochs` of fine-tuning; returns (the fine-tuning phase's Keras History,
    held-out accuracy after every epoch of both phases)."""
    log = new_log(cfg.output_dir, steps_per_epoch)
    val_accuracy = []  # after every epoch, probe epochs included
    # both phases: `train` shuffles itself (make_classifier_dataset)
    fit_data = dict(x=train, validation_data=held_out, verbose=2, shuffle=False)
    if cfg.probe_epochs:
        set_encoder_trainable(backbone, False, cfg.pooling)
        compile_classifier(classifier, cfg.probe_learning_rate, cfg.probe_epochs * steps_per_epoch)
        probe = classifier.fit(epochs=cfg.probe_epochs, callbacks=[log], **fit_data)
        val_accuracy += probe.history["val_accuracy"]
    set_encoder_trainable(backbone, not cfg.freeze_encoder, cfg.pooling)
    compile_classifier(
        classifier,
        cfg.learning_rate,
        cfg.epochs * steps_per_epoch,
        layer_decay=cfg.layer_lr_decay,
        num_layers=backbone.num_layers,
        ema_momentum=cfg.ema_momentum,
    )
    history = classifier.fit(
        initial_epoch=cfg.probe_epochs,
        epochs=cfg.probe_epochs + cfg.epochs,
        callbacks=[log, keras.callbacks.SwapEMAWeights()] if cfg.ema_momentum else [log],
        **fit_data,
    )
    return history, val_accuracy + history.history["val_accuracy"]


# The settings results.json repeats, so a table of runs can be made from the results files alone.
RECORDED_SETTINGS = (
    "pooling",
    "learning_rate",
    "layer_lr_decay",
    "ema_momentum",
    "max_seq_length",
    "freeze_encoder",
    "probe_epochs",
)


def finetune_classification(cfg: FineTuneConfig) -> dict:
    """Trains, evaluates and exports the classifier; writes results.json, finetune_log.jsonl,
    curves.png; returns the results."""
    rows = classification_rows(cfg)
    label_names, eval_rows = rows["label_names"], rows["eval"]
    backbone, vocab_file, source = encoder_and_vocab(cfg)
    encoder = TextEncoder(vocab_file, cfg.max_seq_length, cfg.do_lower_case)
    train, steps_per_epoch = make_classifier_dataset(
        rows["train"], label_names, encoder, cfg.batch_size, shuffle_seed=cfg.seed
    )
    held_out, _ = make_classifier_dataset(eval_rows, label_names, encoder, cfg.batch_size)
    classifier = build_classifier(backbone, len(label_names), cfg.dropout, cfg.pooling)
    history, val_accuracy = fit_classifier(
        cfg, classifier, backbone, train, held_out, steps_per_epoch
    )
    module = ClassifierServingModule(classifier, encoder, label_names)
    export_saved_model(cfg, module, {"serving_default": module.serve})
    majority = max(sum(row.label == name for row in eval_rows) for name in label_names)
    # The last epoch's held-out metrics are the final model's: fit ends with the weights it evaluated
    # (with --ema_momentum, the average SwapEMAWeights evaluated, which fit then puts in the model).
    results = {
        "init": source,
        **{key: getattr(cfg, key) for key in RECORDED_SETTINGS},
        "probe_learning_rate": cfg.probe_learning_rate if cfg.probe_epochs else None,
        "labels": label_names,
        "train_examples": len(rows["train"]),
        "train_examples_available": rows["available"],
        "eval_examples": len(eval_rows),
        "eval_fraction": None if cfg.eval_file else cfg.eval_fraction,
        "skipped_rows": rows["skipped"],
        "eval_accuracy": history.history["val_accuracy"][-1],
        "eval_loss": history.history["val_loss"][-1],
        "majority_class_accuracy": majority / len(eval_rows),
        "epochs": cfg.epochs,
        "val_accuracy_per_epoch": val_accuracy,
    }
    return write_results(cfg.output_dir, results)
