"""What `bert_tf.train` reads: the record files and how they are masked (`TrainInputs`), where a
resumed run picks up the record stream, and the distributed train / held-out datasets.

Records the pipeline masked are read as they are, or re-masked at another rate (`masking`): the
model then has as many prediction slots as that rate needs, and held-out batches keep their own masks,
padded to those slots, so accuracies stay comparable across rates. Unmasked records
(`--dynamic_masking`) are masked on every read, held-out ones too.

Example:
    >>> prediction_slots(0.25, 128, 20)
    32
"""

from __future__ import annotations

import dataclasses
import json
import re

import tensorflow as tf

from bert_tf.core import storage
from bert_tf.core.masking import MaskingConfig
from bert_tf.core.vocab import Vocab
from bert_tf.modeling.model_dir import ModelDir
from bert_tf.training.data import (
    find_invalid_record,
    list_files,
    make_dataset,
    sample_token_ids,
)
from bert_tf.training.dynamic_masking import DynamicMasker
from bert_tf.training.trainer import TrainConfig


@dataclasses.dataclass(frozen=True)
class TrainInputs:
    """What the trainer reads: TFRecord patterns, the input order's seed, evaluation cadence, and
    `masking` when the records are unmasked and masked here (--dynamic_masking; None: static
    masks)."""

    train_files: tuple[str, ...]
    eval_files: tuple[str, ...] = ()
    seed: int | None = None
    eval_every: int = 1000
    eval_batches: int = 100
    masking: MaskingConfig | None = None
    evaluate_only: bool = False  # no training: evaluate the restored model once
    records_masked: bool = True  # the records hold masks (re-masked when `masking` is set)
    record_predictions: int = 20  # prediction slots of masked records (--max_predictions_per_seq)


def records_consumed(config: TrainConfig, inputs: TrainInputs, step: int, chief: bool) -> int:
    """How many records of this input the run has trained on (all replicas), so a resumed run skips
    them.

    MODEL_DIR/input_position.json remembers at which step the current input (files, batch, lengths,
    seed) started: a new input (phase 2 of two-phase training) starts at its beginning. Without a
    seed the order is random anyway, and nothing is skipped. Only the chief writes the file."""
    path = ModelDir(config.model_dir).input_position
    current = {
        "files": list_files(list(inputs.train_files)),
        "batch": config.train_batch_size,
        "seed": inputs.seed,
        "max_seq_length": config.max_seq_length,
        "predictions": config.max_predictions_per_seq,
    }
    saved = json.loads(storage.open_file(path).read()) if storage.exists(path) else None
    if saved is None or saved["input"] != current:
        if chief:
            with storage.written_whole(path) as f:
                json.dump({"input": current, "start_step": step}, f, indent=1)
        return 0
    if inputs.seed is None:
        return 0
    return (step - saved["start_step"]) * config.train_batch_size


def dynamic_masker(inputs: TrainInputs, vocab_file: str) -> DynamicMasker | None:
    if inputs.masking is None:
        return None
    return DynamicMasker(Vocab.from_file(vocab_file), inputs.masking, inputs.seed)


def prediction_slots(masked_lm_prob: float | None, max_seq_length: int, record_slots: int) -> int:
    """Prediction slots of the model: the records' own, or more when re-masking at a higher rate
    needs them (the pipeline's rule: round(rate × length)).

    >>> prediction_slots(None, 128, 20), prediction_slots(0.15, 128, 20), prediction_slots(0.4, 128, 20)
    (20, 20, 51)
    """
    if masked_lm_prob is None:
        return record_slots
    return max(record_slots, round(masked_lm_prob * max_seq_length))


def distributed_inputs(
    strategy: tf.distribute.Strategy,
    config: TrainConfig,
    inputs: TrainInputs,
    vocab_file: str,
    skip_records: int,
    chief: bool,
):
    """(training batches, held-out batches or None), distributed over the strategy's replicas; the
    training stream starts `skip_records` in (a resumed run)."""
    masker = dynamic_masker(inputs, vocab_file)
    accumulation = config.gradient_accumulation_steps
    # Record counts of files without a manifest, kept by the chief (the model dir's only writer).
    counts_cache = ModelDir(config.model_dir).record_counts if chief else None

    def records(files, context: tf.distribute.InputContext, masker, **options):
        return make_dataset(
            list(files),
            context.get_per_replica_batch_size(config.train_batch_size) // accumulation,
            config.max_seq_length,
            inputs.record_predictions,
            input_context=context,
            masker=masker,
            records_masked=inputs.records_masked,
            prediction_slots=config.max_predictions_per_seq,
            **options,
        )

    def train_fn(context: tf.distribute.InputContext):
        skip = skip_records // context.num_input_pipelines
        options = dict(seed=inputs.seed, skip_records=skip, counts_cache=counts_cache)
        return records(inputs.train_files, context, masker, micro_batches=accumulation, **options)

    def eval_fn(context: tf.distribute.InputContext):
        eval_masker = None if inputs.records_masked else masker  # masked records keep their masks
        held_out = records(inputs.eval_files, context, eval_masker, is_training=False)
        return held_out.take(inputs.eval_batches)

    train_data = (
        None if inputs.evaluate_only else strategy.distribute_datasets_from_function(train_fn)
    )
    eval_data = strategy.distribute_datasets_from_function(eval_fn) if inputs.eval_files else None
    return train_data, eval_data


def explain_unreadable_input(error, config: TrainConfig, inputs: TrainInputs) -> str | None:
    """One line for a parse or lookup failure of the input: an id beyond the vocab, or the first
    record that does not fit the schema; None when the records are fine (a different failure)."""
    out_of_vocab = re.search(
        r"indices\[[^\]]*\] = (\d+) is not in \[0, (\d+)\)", str(error.message)
    )
    if out_of_vocab:
        return (
            f"the records hold token id {out_of_vocab[1]}, but the vocab has {out_of_vocab[2]} "
            "tokens; train with the vocab the records were made with (--vocab)"
        )
    problem = find_invalid_record(
        list_files(list(inputs.train_files + inputs.eval_files)),
        config.max_seq_length,
        inputs.record_predictions,
        masked=inputs.records_masked,
    )
    return None if problem is None else f"unreadable training data: {problem}"


# Training records the co-occurrence start of the token embeddings counts (≈ 6 M tokens at 128).
COOCCURRENCE_RECORDS = 50_000


def corpus_sample(inputs: TrainInputs, config: TrainConfig, vocab_file: str):
    """(token ids [≤ COOCCURRENCE_RECORDS, T] of the training records, with their masks undone;
    the special ids, which are not words): what `Trainer.restore` counts co-occurrences in."""
    vocab = Vocab.from_file(vocab_file)
    ids = sample_token_ids(
        inputs.train_files,
        COOCCURRENCE_RECORDS,
        config.max_seq_length,
        inputs.record_predictions,
        inputs.records_masked,
    )
    specials = {vocab.pad_id, vocab.unk_id, vocab.cls_id, vocab.sep_id, vocab.mask_id}
    return ids, sorted(specials)
