"""Training input edge cases as a user meets them: unreadable TFRecords stop with the file and feature
named; two-phase training (seq 64 → 128 here, 128 → 512 in the paper) continues step and optimizer."""

import json
import os
import shutil

import pytest
import tensorflow as tf

from tests.bert_tf.cli import run_module, run_module_expecting_error
from tests.conftest import write_records

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses


def flags_for(records_pattern, vocab_file, model_dir, seq=64, predictions=10):
    return [
        f"--train_files={records_pattern}",
        f"--vocab={vocab_file}",
        "--bert_config=tiny",
        f"--model_dir={model_dir}",
        "--train_batch_size=8",
        f"--max_seq_length={seq}",
        f"--max_predictions_per_seq={predictions}",
        "--num_warmup_steps=1",
        "--log_every=1",
        "--seed=2",
    ]


def test_schema_mismatch_names_file_record_and_feature(pretraining_records, vocab_file, tmp_path):
    data = tmp_path / "data"
    data.mkdir()  # one good shard, so the stream reaches the bad record early
    first = sorted(tf.io.gfile.glob(pretraining_records["pattern"]))[0]
    shutil.copy(first, data / os.path.basename(first))
    with tf.io.TFRecordWriter(str(data / "train-zz-wrong.tfrecord")) as writer:
        feature = {
            name: tf.train.Feature(int64_list=tf.train.Int64List(value=[1] * 32))
            for name in ("input_ids", "input_mask", "segment_ids")
        }
        writer.write(
            tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
        )
    error = run_module_expecting_error(
        "bert_tf.train",
        *flags_for(str(data / "train-*"), vocab_file, tmp_path / "m"),
        "--num_train_steps=400",
    )
    assert (
        error.startswith("error: unreadable training data:")
        and "train-zz-wrong.tfrecord, record 0" in error
    )
    assert "'input_ids' has 32 values, expected 64" in error


def test_truncated_shard_is_reported_as_corrupt(pretraining_records, vocab_file, tmp_path):
    shard = sorted(tf.io.gfile.glob(pretraining_records["pattern"]))[0]
    content = open(shard, "rb").read()
    broken = tmp_path / "train-broken.tfrecord"
    broken.write_bytes(content[: len(content) // 2])
    error = run_module_expecting_error(
        "bert_tf.train",
        *flags_for(str(broken), vocab_file, tmp_path / "m"),
        "--num_train_steps=400",
    )
    assert "train-broken.tfrecord: corrupt after record" in error


@pytest.fixture(scope="module")
def long_records(kjv_slice, vocab_file, tmp_path_factory):
    """Phase-2 data: the same corpus at max_seq_length 128, 20 predictions."""
    out = str(tmp_path_factory.mktemp("records128"))
    write_records(
        kjv_slice, vocab_file, out, max_seq_length=128, max_predictions_per_seq=20, dupe_factor=1,
        num_shards=1,
    )  # fmt: skip
    return os.path.join(out, "train-*.tfrecord")


def test_two_phase_training_continues_step_optimizer_and_schedule(
    pretraining_records, long_records, vocab_file, tmp_path
):
    model_dir = tmp_path / "two_phase"
    phase1 = run_module(
        "bert_tf.train",
        *flags_for(pretraining_records["pattern"], vocab_file, model_dir),
        "--num_train_steps=6",
        "--stop_at_step=3",
        "--learning_rate=1e-3",
    )
    assert "step 3/6" in phase1 and "step 4/6" not in phase1
    phase2 = run_module(
        "bert_tf.train",
        *flags_for(long_records, vocab_file, model_dir, seq=128, predictions=20),
        "--num_train_steps=6",
        "--learning_rate=1e-3",
    )
    assert "resumed from" in phase2 and "at step 3" in phase2 and "skipping" not in phase2
    assert "step 6/6" in phase2
    with open(model_dir / "train_log.jsonl") as f:
        log = [json.loads(line) for line in f]
    assert [r["step"] for r in log] == [1, 2, 3, 4, 5, 6]
    # One schedule over both phases: warmup 1 step, then linear decay from step 1 to 0 at step 6.
    assert [round(r["learning_rate"], 7) for r in log] == [1e-3, 8e-4, 6e-4, 4e-4, 2e-4, 0.0]
    # Phase 2 really reads 128-token records: ~2x the tokens per example of phase 1.
    assert log[4]["tokens_per_second"] / log[4]["examples_per_second"] > 1.5 * (
        log[1]["tokens_per_second"] / log[1]["examples_per_second"]
    )
