"""Dynamic masking: the pipeline writes unmasked pairs, tf.data masks each batch afresh with
tensorflow-text (15% of maskable tokens, 80/10/10), and training runs on them."""

import os

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.data import make_dataset
from bert_tf.dynamic_masking import DynamicMasker
from tests.bert_tf.cli import run_module


@pytest.fixture(scope="module")
def unmasked_records(kjv_slice, vocab_file, tmp_path_factory):
    from pipelines.config import PipelineConfig
    from pipelines.create_pretraining_data import run

    out = str(tmp_path_factory.mktemp("unmasked"))
    stats = run(
        PipelineConfig(
            inputs=(kjv_slice,),
            output_dir=out,
            vocab_file=vocab_file,
            input_format="lines",
            max_seq_length=64,
            max_predictions_per_seq=10,
            dupe_factor=1,
            num_shards=1,
            dynamic_masking=True,
        ),
        [],
    )
    return {"pattern": os.path.join(out, "train-*.tfrecord"), "stats": stats}


def test_pipeline_writes_unmasked_pairs(unmasked_records):
    record = next(iter(tf.data.TFRecordDataset(tf.io.gfile.glob(unmasked_records["pattern"]))))
    features = tf.train.Example.FromString(record.numpy()).features.feature
    assert set(features) == {"input_ids", "input_mask", "segment_ids", "next_sentence_labels"}
    assert (
        unmasked_records["stats"]["masked_tokens"] == 0
        and unmasked_records["stats"]["instances"] > 100
    )


def test_masks_follow_the_recipe_and_change_every_read(unmasked_records, vocab):
    masker = DynamicMasker(
        len(vocab), vocab.cls_id, vocab.sep_id, vocab.mask_id, max_predictions_per_seq=10
    )
    dataset = make_dataset(
        [unmasked_records["pattern"]], 64, 64, 10, is_training=False, masker=lambda b: b
    )
    plain = [batch for batch in dataset]
    masked = [masker(batch) for batch in plain]
    chosen = kept = replaced_by_mask = maskable = 0
    for before, after in zip(plain, masked):
        ids, new_ids = before["input_ids"].numpy(), after["input_ids"].numpy()
        positions, labels = after["masked_lm_positions"].numpy(), after["masked_lm_ids"].numpy()
        weights = after["masked_lm_weights"].numpy()
        for row in range(len(ids)):
            valid = positions[row][weights[row] > 0]
            assert len(set(valid)) == len(valid) and len(valid) <= 10
            assert not np.isin(ids[row][valid], [vocab.cls_id, vocab.sep_id, 0]).any()
            np.testing.assert_array_equal(labels[row][weights[row] > 0], ids[row][valid])
            untouched = np.setdiff1d(np.arange(ids.shape[1]), valid)
            np.testing.assert_array_equal(new_ids[row][untouched], ids[row][untouched])
            n = int(before["input_mask"].numpy()[row].sum())
            maskable += n - 2 - int((ids[row][:n] == vocab.sep_id).sum() - 1)
            chosen += len(valid)
            replaced_by_mask += int((new_ids[row][valid] == vocab.mask_id).sum())
            kept += int((new_ids[row][valid] == ids[row][valid]).sum())
    assert 0.14 < chosen / maskable < 0.17, chosen / maskable  # ceil(15%), capped at 10 slots
    assert 0.77 < replaced_by_mask / chosen < 0.83 and 0.08 < kept / chosen < 0.12
    again = masker(plain[0])
    assert not np.array_equal(
        again["masked_lm_positions"].numpy(), masked[0]["masked_lm_positions"].numpy()
    )


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
    )
    assert "step 3/3" in out and "loss 1" in out  # about ln(30522) + ln 2 ≈ 11 at the start
