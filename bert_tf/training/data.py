"""tf.data input for pre-training (docs/recipe.md §6): TFRecord file patterns → batches of int32
features.

Files are sharded per input pipeline (tf.distribute.InputContext) when there are enough of them,
otherwise records are; then interleaved, shuffled, repeated, batched with drop_remainder, parsed
in batch (faster than per record) and prefetched.

Example:
    >>> ds = make_dataset(["out/train-*.tfrecord"], batch_size=32, max_seq_length=128,
    ...                   max_predictions_per_seq=20)  # doctest: +SKIP
"""

from __future__ import annotations

import os

import numpy as np
import tensorflow as tf

from bert_tf.core import features as schema
from bert_tf.core import storage
from bert_tf.core.masking import restore_original_ids
from bert_tf.training.record_stream import record_counts, record_stream


def list_files(patterns) -> list[str]:
    """Sorted files matching the patterns; a directory (the pipeline's --output_dir) stands for its
    *.tfrecord files; a pattern matching nothing is an error naming it."""
    files = []
    for pattern in patterns:
        if storage.isdir(pattern):
            pattern = os.path.join(pattern, "*.tfrecord")
        matched = storage.glob(pattern)
        if not matched:
            raise FileNotFoundError(f"no TFRecord file matches {pattern!r}")
        files.extend(matched)
    return sorted(set(files))


def _decode(serialized, max_seq_length: int, max_predictions_per_seq: int, masked: bool) -> dict:
    spec = schema.parse_spec(max_seq_length, max_predictions_per_seq, masked=masked)
    parsed = tf.io.parse_example(serialized, spec)
    return {
        name: tf.cast(value, tf.int32) if value.dtype == tf.int64 else value
        for name, value in parsed.items()
    }


def _training_records(files, input_context, seed, window, position, counts_cache):
    """This input pipeline's record stream: its own files when there are enough to go round, else
    every n-th record of the whole stream."""
    counts = record_counts(files, counts_cache)
    seed = int(np.random.SeedSequence().entropy % 2**31) if seed is None else seed
    pipelines = input_context.num_input_pipelines if input_context else 1
    if pipelines == 1:
        return record_stream(files, counts, seed, position, window)
    index = input_context.input_pipeline_id
    if len(files) >= pipelines:
        return record_stream(
            files[index::pipelines], counts[index::pipelines], seed, position, window
        )
    whole = record_stream(files, counts, seed, position * pipelines, window)
    return whole.shard(pipelines, index)


def _evaluation_records(files, input_context):
    """Every record once, in file order; split by file (enough files) or by record across
    pipelines."""
    pipelines = input_context.num_input_pipelines if input_context else 1
    names = tf.data.Dataset.from_tensor_slices(files)
    if pipelines > 1 and len(files) >= pipelines:
        names = names.shard(pipelines, input_context.input_pipeline_id)
    records = names.flat_map(tf.data.TFRecordDataset)
    if pipelines > 1 and len(files) < pipelines:
        records = records.shard(pipelines, input_context.input_pipeline_id)
    return records


def make_dataset(
    patterns,
    batch_size: int,
    max_seq_length: int,
    max_predictions_per_seq: int,
    is_training: bool = True,
    input_context: tf.distribute.InputContext | None = None,
    seed: int | None = None,
    shuffle_buffer: int = 10_000,
    skip_records: int = 0,
    masker=None,
    micro_batches: int = 1,
    counts_cache: str | None = None,
    records_masked: bool | None = None,
    prediction_slots: int | None = None,
) -> tf.data.Dataset:
    """Batches of dicts with every schema feature; `batch_size` is per input pipeline (replica).
    `micro_batches` N > 1 stacks N consecutive batches into one [N, batch_size, ...] element: one
    optimizer step of gradient accumulation.

    `masker` (a bert_tf.training.dynamic_masking.DynamicMasker) reads unmasked records and masks every batch,
    numbered from the start of the stream (a resumed stream's first batch is number
    skip/batch_size).

    Training reads the endless record stream of bert_tf/training/record_stream.py (epochs in seeded file
    orders, `shuffle_buffer`-record windows shuffled); `skip_records` starts it where an interrupted
    run left it, found from the files' record counts (cached in `counts_cache` when a file has no
    manifest) rather than by reading what was consumed. Without a seed, the order is random.

    `records_masked` (default: without a masker) says the records hold masks; with a masker too they
    are re-masked. `prediction_slots` > max_predictions_per_seq pads the records' own masks to that
    many slots (weight 0), for a model built with more slots than the records have."""
    if records_masked is None:
        records_masked = masker is None
    files = list_files(patterns)
    if is_training:
        dataset = _training_records(
            files, input_context, seed, shuffle_buffer, skip_records, counts_cache
        )
    else:
        dataset = _evaluation_records(files, input_context)
    dataset = dataset.batch(batch_size, drop_remainder=is_training)

    def decode(records):
        batch = _decode(records, max_seq_length, max_predictions_per_seq, records_masked)
        extra = (prediction_slots or 0) - max_predictions_per_seq
        if records_masked and masker is None and extra > 0:
            for name in ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights"):
                batch[name] = tf.pad(batch[name], [[0, 0], [0, extra]])
        return batch

    dataset = dataset.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    if masker is not None:
        first_batch = skip_records // batch_size
        dataset = dataset.enumerate(start=first_batch).map(
            lambda index, batch: masker(batch, index), num_parallel_calls=tf.data.AUTOTUNE
        )
    if micro_batches > 1:
        dataset = dataset.batch(micro_batches, drop_remainder=True)
    return dataset.prefetch(tf.data.AUTOTUNE)


def find_invalid_record(
    files: list[str], max_seq_length: int, max_predictions_per_seq: int, masked: bool = True
) -> str | None:
    """Describes the first record of `files` that cannot be read or does not fit the schema (file,
    record index, feature), or None when all are fine. Used to explain a failed parse; stops at the
    first problem."""
    lengths = schema.feature_lengths(max_seq_length, max_predictions_per_seq, masked)
    for path in files:
        index = -1
        try:
            for index, record in enumerate(tf.data.TFRecordDataset(path).as_numpy_iterator()):
                problem = _schema_problem(tf.train.Example.FromString(record), lengths)
                if problem:
                    return f"{path}, record {index}: {problem}"
        except tf.errors.DataLossError as error:
            return f"{path}: corrupt after record {index} ({error.message})"
    return None


def _schema_problem(example, lengths: dict[str, int]) -> str | None:
    features = example.features.feature
    for name, length in lengths.items():
        if name not in features:
            return f"feature {name!r} is missing"
        kind = features[name].WhichOneof("kind")
        expected = "float_list" if name in schema.FLOAT_FEATURES else "int64_list"
        if kind != expected:
            return f"feature {name!r} is a {kind}, expected {expected}"
        found = len(getattr(features[name], kind).value)
        if found != length:
            return (
                f"feature {name!r} has {found} values, expected {length} "
                f"(--max_seq_length/--max_predictions_per_seq must match the data)"
            )
    return None


def sample_token_ids(
    patterns, records: int, max_seq_length: int, max_predictions_per_seq: int, masked: bool
) -> np.ndarray:
    """[≤ records, max_seq_length] int32: the token ids of the first `records` records, taken in
    turn from every file (a sample of the whole corpus, the same on every worker), with the
    original ids of masked records put back."""
    files = list_files(patterns)
    dataset = tf.data.Dataset.from_tensor_slices(files).interleave(
        tf.data.TFRecordDataset, cycle_length=len(files), block_length=1
    )
    dataset = (
        dataset.take(records)
        .batch(4096)
        .map(lambda batch: _decode(batch, max_seq_length, max_predictions_per_seq, masked))
    )
    rows = []
    for batch in dataset.as_numpy_iterator():
        if masked:
            positions, labels, weights = (
                batch[f"masked_lm_{k}"] for k in ("positions", "ids", "weights")
            )
            rows.append(restore_original_ids(batch["input_ids"], positions, labels, weights))
        else:
            rows.append(batch["input_ids"])
    return np.concatenate(rows) if rows else np.zeros((0, max_seq_length), np.int32)
