"""Dynamic masking: the pipeline writes unmasked pairs, tf.data masks each batch afresh with the
pipeline's own algorithm (seeded per batch, whole words optional), and training runs on them."""

import os

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.core.masking import MaskingConfig
from bert_tf.training.data import make_dataset
from bert_tf.training.dynamic_masking import DynamicMasker
from tests.bert_tf.cli import run_module
from tests.conftest import write_records


@pytest.fixture(scope="module")
def unmasked_records(kjv_slice, vocab_file, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("unmasked"))
    stats, _ = write_records(
        kjv_slice, vocab_file, out, max_seq_length=64, max_predictions_per_seq=10, dupe_factor=1,
        num_shards=1, dynamic_masking=True,
    )  # fmt: skip
    return {"pattern": os.path.join(out, "train-*.tfrecord"), "stats": stats}


def test_pipeline_writes_unmasked_pairs(unmasked_records):
    record = next(iter(tf.data.TFRecordDataset(tf.io.gfile.glob(unmasked_records["pattern"]))))
    features = tf.train.Example.FromString(record.numpy()).features.feature
    assert set(features) == {"input_ids", "input_mask", "segment_ids", "next_sentence_labels"}
    assert (
        unmasked_records["stats"]["masked_tokens"] == 0
        and unmasked_records["stats"]["instances"] > 100
    )


def masked_stream(pattern, vocab, whole_word=False, seed=7, skip_records=0, batches=None):
    """The batches `make_dataset` yields from the unmasked records, masked by DynamicMasker."""
    masker = DynamicMasker(vocab, MaskingConfig(0.15, 10, whole_word), seed=seed)
    dataset = make_dataset(
        [pattern], 16, 64, 10, is_training=True, seed=3, skip_records=skip_records, masker=masker
    )
    return [{k: v.numpy() for k, v in batch.items()} for batch in dataset.take(batches or 12)]


def plain_stream(pattern):
    """The same batches, unmasked (a masker that changes nothing)."""

    def unchanged(batch, index):
        return batch

    dataset = make_dataset([pattern], 16, 64, 10, is_training=True, seed=3, masker=unchanged)
    return [{k: v.numpy() for k, v in batch.items()} for batch in dataset.take(12)]


def test_masks_follow_the_recipe(unmasked_records, vocab):
    """Static-mask statistics: round(15%) of the tokens, never [CLS]/[SEP]/[PAD], 80/10/10, random
    tokens are real wordpieces; every unmasked position is left as it was."""
    plain = plain_stream(unmasked_records["pattern"])
    masked = masked_stream(unmasked_records["pattern"], vocab)
    chosen = kept = replaced_by_mask = random = expected = 0
    for before, after in zip(plain, masked):
        ids, new_ids = before["input_ids"], after["input_ids"]
        positions, labels, weights = (
            after[k] for k in ("masked_lm_positions", "masked_lm_ids", "masked_lm_weights")
        )
        for row in range(len(ids)):
            valid = positions[row][weights[row] > 0]
            assert len(set(valid)) == len(valid) and list(valid) == sorted(valid)
            assert not np.isin(ids[row][valid], [vocab.cls_id, vocab.sep_id, 0]).any()
            np.testing.assert_array_equal(labels[row][weights[row] > 0], ids[row][valid])
            untouched = np.setdiff1d(np.arange(ids.shape[1]), valid)
            np.testing.assert_array_equal(new_ids[row][untouched], ids[row][untouched])
            length = int(before["input_mask"][row].sum())
            expected += min(10, max(1, round(length * 0.15)))
            chosen += len(valid)
            replaced_by_mask += int((new_ids[row][valid] == vocab.mask_id).sum())
            unchanged = new_ids[row][valid] == ids[row][valid]
            kept += int(unchanged.sum())
            swapped = new_ids[row][valid][~unchanged & (new_ids[row][valid] != vocab.mask_id)]
            assert not np.isin(swapped, sorted(vocab.non_wordpiece_ids)).any()
            random += len(swapped)
    assert chosen == expected  # the budget is met exactly (every KJV pair has enough candidates)
    assert 0.77 < replaced_by_mask / chosen < 0.83 and 0.08 < kept / chosen < 0.12
    assert 0.07 < random / chosen < 0.13


def test_masks_are_seeded_per_batch_so_a_resumed_stream_repeats_them(unmasked_records, vocab):
    pattern = unmasked_records["pattern"]
    first = masked_stream(pattern, vocab)
    again = masked_stream(pattern, vocab)
    resumed = masked_stream(pattern, vocab, skip_records=5 * 16, batches=7)
    other_seed = masked_stream(pattern, vocab, seed=8)
    for a, b in zip(first, again):
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    for a, b in zip(first[5:], resumed):  # batch 5 of the first run is batch 0 after the resume
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])
    assert not np.array_equal(first[0]["masked_lm_positions"], other_seed[0]["masked_lm_positions"])
    assert not np.array_equal(first[0]["masked_lm_positions"], first[1]["masked_lm_positions"])


def test_whole_word_masks_take_every_piece_of_a_word(unmasked_records, vocab):
    masked = masked_stream(unmasked_records["pattern"], vocab, whole_word=True)
    plain = plain_stream(unmasked_records["pattern"])
    continuation = np.array([t.startswith("##") for t in vocab.tokens])
    words_with_pieces = 0
    for before, after in zip(plain, masked):
        ids = before["input_ids"]
        for row in range(len(ids)):
            chosen = set(after["masked_lm_positions"][row][after["masked_lm_weights"][row] > 0])
            for position in chosen:  # a chosen piece's neighbours of the same word are chosen too
                if position + 1 < ids.shape[1] and continuation[ids[row][position + 1]]:
                    assert position + 1 in chosen
                    words_with_pieces += 1
                after_special = ids[row][position - 1] in (vocab.cls_id, vocab.sep_id)
                if continuation[ids[row][position]] and not after_special:
                    assert position - 1 in chosen
            assert len(chosen) <= 10
    assert words_with_pieces > 0  # the KJV has multi-piece words; some were masked


@pytest.mark.slow
def test_training_with_dynamic_masking(unmasked_records, vocab_file, tmp_path):
    out = run_module(
        "bert_tf.train",
        f"--train_files={unmasked_records['pattern']}",
        f"--vocab={vocab_file}",
        f"--model_dir={tmp_path / 'm'}",
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_train_steps=3",
        "--log_every=1",
        "--dynamic_masking",
        "--whole_word_mask",
        "--seed=1",
    )
    assert "step 3/3" in out and "loss 1" in out  # about ln(30522) + ln 2 ≈ 11 at the start
