"""Sentence(-pair) classification on top of the pre-trained encoder, as the paper describes: a
softmax over the final [CLS] representation (the tanh pooler's output, dropout, one dense layer).

Also the labelled-data side: CSV/TSV rows (optionally .bz2/.gz) → (text, text_b, label) with every
unusable row counted by reason, and a held-out split that depends only on the text (stable hash), so
re-running or re-ordering the file never moves an example between train and eval.

Example:
    >>> rows, skipped = read_labelled_rows("reviews.csv.bz2", "text", "category", labels=("fresh", "rotten"))  # doctest: +SKIP
    >>> train, held_out = split_held_out(rows, 0.1)  # doctest: +SKIP
"""

from __future__ import annotations

import collections
import csv
import hashlib
import json
import logging
import sys
from typing import NamedTuple

import keras
import numpy as np
import tensorflow as tf

from bert_tf.core import storage
from bert_tf.modeling.model import encode_inputs
from bert_tf.serving.text_encoding import TextEncoder, second_texts_or_empty

log = logging.getLogger(__name__)


class Row(NamedTuple):
    text: str
    text_b: str
    label: str


def read_labelled_rows(
    path: str,
    text_column: str,
    label_column: str,
    text_b_column: str | None = None,
    labels: tuple[str, ...] | None = None,
) -> tuple[list[Row], dict[str, int]]:
    """Rows of a CSV (or TSV when the name says .tsv) file with a header; skips are counted by
    reason: `missing_field`, `empty_text`, `other_label` (not in `labels`, when given)."""
    csv.field_size_limit(sys.maxsize)
    delimiter = "\t" if ".tsv" in path else ","
    rows, skipped = [], collections.Counter()
    with storage.open_text(path) as f:
        reader = csv.DictReader(f, delimiter=delimiter)
        wanted = [c for c in (text_column, label_column, text_b_column) if c]
        absent = [c for c in wanted if c not in (reader.fieldnames or [])]
        if absent:
            raise ValueError(f"{path}: no column {absent}; the header has {reader.fieldnames}")
        for record in reader:
            values = [record.get(c) for c in wanted]
            if any(v is None for v in values):
                skipped["missing_field"] += 1
            elif not values[0].strip():
                skipped["empty_text"] += 1
            elif labels and values[1] not in labels:
                skipped["other_label"] += 1
            else:
                rows.append(Row(values[0], values[2] if text_b_column else "", values[1]))
    if skipped:
        log.warning("%s: skipped rows %s", path, dict(skipped))
    if not rows:
        raise ValueError(f"{path}: no usable rows (skipped: {dict(skipped)})")
    return rows, dict(skipped)


def _row_text(row: Row) -> str:
    return row.text + "\x00" + row.text_b


def split_held_out(rows: list, fraction: float, key=_row_text) -> tuple[list, list]:
    """(train, held-out): a row is held out when the stable hash of `key(row)` (by default its
    texts) falls below `fraction`, so neither re-running nor re-ordering moves a row across.

    >>> split_held_out([Row("a", "", "x"), Row("b", "", "y")], 0.5)[1]
    [Row(text='b', text_b='', label='y')]
    """

    def is_held_out(row) -> bool:
        digest = hashlib.sha256(key(row).encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2**64 < fraction

    train, held_out = [], []
    for row in rows:
        (held_out if is_held_out(row) else train).append(row)
    return train, held_out


def make_classifier_dataset(
    rows: list[Row],
    label_names: list[str],
    encoder: TextEncoder,
    batch_size: int,
    shuffle_seed: int | None = None,
) -> tuple[tf.data.Dataset, int]:
    """((encoded inputs, label index) batches, batches per pass). Texts are tokenized in the tf.data
    graph; rows of similar length are batched together (`length_buckets`), each batch cut after its
    longest row, so short texts do not pay for long ones' padding. With `shuffle_seed` the rows are
    reshuffled every pass (each length bucket's batches are then random draws from that bucket)."""
    index = {name: i for i, name in enumerate(label_names)}
    dataset = tf.data.Dataset.from_tensor_slices(
        ([r.text for r in rows], [r.text_b for r in rows], [index[r.label] for r in rows])
    )
    lengths = np.concatenate(
        [
            np.sum(inputs["input_mask"].numpy(), axis=1)
            for inputs, _ in _encoded_rows(dataset, encoder).batch(4096)
        ]
    )
    boundaries = length_buckets(encoder.max_seq_length)
    per_bucket = np.bincount(np.searchsorted(boundaries, lengths, side="right"))
    batches = int(np.sum(-(-per_bucket // batch_size)))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(rows), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = _encoded_rows(dataset, encoder).bucket_by_sequence_length(
        lambda inputs, _: tf.reduce_sum(inputs["input_mask"]),
        bucket_boundaries=boundaries,
        bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
    )
    dataset = dataset.map(lambda x, y: (trim_padding(x), y)).prefetch(tf.data.AUTOTUNE)
    # Keras sizes its epochs from a known cardinality (bucketing hides it); a wrong count would fail
    return dataset.apply(tf.data.experimental.assert_cardinality(batches)), batches


def length_buckets(max_seq_length: int, width: int = 16) -> list[int]:
    """Upper bounds (exclusive) of the length buckets: every `width` tokens below max_seq_length.

    >>> length_buckets(64)
    [16, 32, 48]
    """
    return list(range(width, max_seq_length, width))


def _encoded_rows(dataset: tf.data.Dataset, encoder: TextEncoder) -> tf.data.Dataset:
    """(text, text_b, label) rows → (encoded inputs padded to max_seq_length, label) rows; tokenized
    a thousand at a time (one tensorflow-text call each)."""
    return (
        dataset.batch(1024)
        .map(lambda a, b, y: (encoder.encode(a, b), y), num_parallel_calls=tf.data.AUTOTUNE)
        .unbatch()
    )


def trim_padding(inputs: dict) -> dict:
    """Cuts a batch's columns after its longest row: the same outputs (padding is masked out) for
    less compute — short texts such as reviews fill a fraction of max_seq_length."""
    length = tf.reduce_max(tf.reduce_sum(inputs["input_mask"], axis=1))
    return {name: value[:, :length] for name, value in inputs.items()}


def build_classifier(
    backbone, num_classes: int, dropout: float = 0.1, pooling: str = "cls"
) -> keras.Model:
    """Functional model: {input_word_ids, input_mask, input_type_ids} → class logits (float32).

    pooling "cls": the tanh pooler on [CLS] (BERT's recipe); "mean": the mean of the final token
    vectors (what an MLM-only or briefly pre-trained encoder has actually learned to fill)."""
    inputs, encoded = encode_inputs(backbone)
    if pooling == "cls":
        pooled = encoded["pooled_output"]
    elif pooling == "mean":
        mask = keras.ops.expand_dims(
            keras.ops.cast(inputs["input_mask"], encoded["sequence_output"].dtype), -1
        )
        pooled = keras.ops.sum(encoded["sequence_output"] * mask, axis=1) / keras.ops.maximum(
            keras.ops.sum(mask, axis=1), 1.0
        )
    else:
        raise ValueError(f"pooling must be 'cls' or 'mean', got {pooling!r}")
    pooled = keras.layers.Dropout(dropout)(pooled)
    logits = keras.layers.Dense(
        num_classes,
        dtype="float32",
        name="classifier",
        kernel_initializer=keras.initializers.TruncatedNormal(stddev=0.02),
    )(pooled)
    return keras.Model(inputs, logits, name="bert_classifier")


def set_encoder_trainable(backbone, trainable: bool, pooling: str) -> None:
    """Trains or freezes the encoder under a classifier; the [CLS] pooler only trains when the
    classifier reads it (mean pooling leaves it without a gradient)."""
    backbone.trainable = trainable
    backbone.get_layer("pooled_dense").trainable = trainable and pooling == "cls"


class ClassifierServingModule(tf.Module):
    """`serving_default(text, text_b)` → probabilities [B, classes] and the argmax label [B]."""

    def __init__(self, classifier: keras.Model, encoder: TextEncoder, label_names: list[str]):
        super().__init__()
        self.classifier, self.encoder = classifier, encoder
        self.label_names = tf.constant(label_names)

    @tf.function(
        input_signature=[
            tf.TensorSpec([None], tf.string, name="text"),
            tf.TensorSpec([None], tf.string, name="text_b"),
        ]
    )
    def serve(self, text, text_b):
        inputs = self.encoder.encode(text, second_texts_or_empty(text, text_b))
        probabilities = tf.nn.softmax(self.classifier(inputs, training=False))
        return {
            "probabilities": probabilities,
            "label": tf.gather(self.label_names, tf.argmax(probabilities, axis=-1)),
        }


class FineTuningLog(keras.callbacks.Callback):
    """Appends fine-tuning's progress to a JSON-lines file for bert_tf/training/curves.py: the running
    training loss/accuracy every `every` batches (x = epochs done, fractional) and held-out metrics
    after each epoch."""

    def __init__(self, path: str, steps_per_epoch: int, every: int = 10):
        super().__init__()
        self._path, self._steps, self._every = path, steps_per_epoch, every
        self._epoch = 0

    def _write(self, record: dict) -> None:
        with storage.open_file(self._path, "a") as f:
            f.write(json.dumps(record) + "\n")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if (batch + 1) % self._every == 0 and logs:
            record = {
                "epoch_progress": self._epoch + (batch + 1) / self._steps,
                "batch_loss": float(logs["loss"]),
            }
            if "accuracy" in logs:  # span QA has none
                record["batch_accuracy"] = float(logs["accuracy"])
            self._write(record)

    def on_epoch_end(self, epoch, logs=None):
        self._write(
            {"epoch": epoch + 1, **{name: float(value) for name, value in (logs or {}).items()}}
        )
