"""The real Beam pipeline on a real corpus slice; records parsed with a spec written from the table
of docs/recipe.md §4."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Written from the docs/recipe.md §4 table on purpose, independent of bert_tf.core.features.
L, P = 64, 10
SPEC_TABLE = {
    "input_ids": tf.io.FixedLenFeature([L], tf.int64),
    "input_mask": tf.io.FixedLenFeature([L], tf.int64),
    "segment_ids": tf.io.FixedLenFeature([L], tf.int64),
    "masked_lm_positions": tf.io.FixedLenFeature([P], tf.int64),
    "masked_lm_ids": tf.io.FixedLenFeature([P], tf.int64),
    "masked_lm_weights": tf.io.FixedLenFeature([P], tf.float32),
    "next_sentence_labels": tf.io.FixedLenFeature([1], tf.int64),
}


def read_records(pattern):
    files = sorted(tf.io.gfile.glob(pattern))
    return [
        {k: v.numpy() for k, v in tf.io.parse_single_example(r, SPEC_TABLE).items()}
        for r in tf.data.TFRecordDataset(files)
    ]


def test_shards_names_and_stats(pretraining_records):
    names = sorted(os.listdir(pretraining_records["dir"]))
    assert names == [
        "manifest.json",
        "stats.json",
        "train-00000-of-00002.tfrecord",
        "train-00001-of-00002.tfrecord",
    ]
    stats = pretraining_records["stats"]
    assert stats["documents_read"] == stats["documents_used"] == 30
    assert stats["skipped"] == {} and stats["flags"]["max_seq_length"] == 64
    records = read_records(pretraining_records["pattern"])
    assert len(records) == stats["instances"] > 300
    assert sum(int(r["input_mask"].sum()) for r in records) == stats["tokens"]
    assert sum(int(r["masked_lm_weights"].sum()) for r in records) == stats["masked_tokens"]
    labels = [int(r["next_sentence_labels"][0]) for r in records]
    assert stats["nsp_labels"] == {"is_next": labels.count(0), "is_random": labels.count(1)}
    assert sum(stats["length_histogram"].values()) == stats["instances"]


def test_records_follow_the_schema(pretraining_records, vocab):
    records = read_records(pretraining_records["pattern"])
    masked_fraction = []
    for r in records:
        n = int(r["input_mask"].sum())
        ids = r["input_ids"]
        assert ids[0] == vocab.cls_id and ids[n - 1] == vocab.sep_id and not ids[n:].any()
        assert r["input_mask"][:n].all() and not r["input_mask"][n:].any()
        seps = np.flatnonzero(ids[:n] == vocab.sep_id)
        assert len(seps) == 2
        assert (r["segment_ids"][: seps[0] + 1] == 0).all() and (
            r["segment_ids"][seps[0] + 1 : n] == 1
        ).all()
        k = int(r["masked_lm_weights"].sum())
        assert k == min(P, max(1, round(n * 0.15)))
        positions = r["masked_lm_positions"][:k]
        assert (positions > 0).all() and (positions < n).all() and (np.diff(positions) > 0).all()
        assert not r["masked_lm_positions"][k:].any() and not r["masked_lm_ids"][k:].any()
        assert not np.isin(r["masked_lm_ids"][:k], [vocab.cls_id, vocab.sep_id, vocab.pad_id]).any()
        masked_fraction.append(np.mean(ids[positions] == vocab.mask_id))
    assert 0.75 < np.mean(masked_fraction) < 0.85


def test_original_text_is_recoverable(pretraining_records, vocab, kjv_slice):
    """Unmasking the records gives back real wordpieces of the corpus ("god", "created", ...)."""
    records = read_records(pretraining_records["pattern"])
    words = set()
    for r in records:
        ids = r["input_ids"].copy()
        k = int(r["masked_lm_weights"].sum())
        ids[r["masked_lm_positions"][:k]] = r["masked_lm_ids"][:k]
        words.update(vocab.tokens[i] for i in ids if i)
    assert {"god", "created", "heaven", "earth", "abraham"} <= words


def run_cli(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run(
        [sys.executable, "-m", "pipelines.create_pretraining_data", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )


@pytest.mark.slow
def test_bad_flags_fail_cleanly_and_write_nothing(tmp_path, kjv_slice, vocab_file):
    bad_vocab = tmp_path / "vocab.txt"
    bad_vocab.write_text("[PAD]\n[UNK]\nthe\n")
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    cases = [
        ([f"--input={tmp_path}/missing*.txt", f"--vocab={vocab_file}"], "matches no file"),
        ([f"--input={kjv_slice}", f"--vocab={bad_vocab}"], "lacks required special tokens"),
        ([f"--input={kjv_slice}", f"--vocab={tmp_path}/nope.txt"], "vocab file not found"),
        (
            [f"--input={kjv_slice}", f"--vocab={vocab_file}", "--max_seq_length=4"],
            "--max_seq_length",
        ),
        (
            [f"--input={kjv_slice}", f"--vocab={vocab_file}", "--max_seq_length=513"],
            "--max_seq_length",
        ),
        (
            [f"--input={kjv_slice}", f"--vocab={vocab_file}", "--masked_lm_prob=1.0"],
            "--masked_lm_prob",
        ),
        ([f"--input={empty}", f"--vocab={vocab_file}"], "every input file is empty"),
        (
            ["--input=gs://no-such-bucket-bert-tf/corpus.txt", f"--vocab={vocab_file}"],
            "no Google Cloud credentials",
        ),
        (
            [f"--input={kjv_slice}", f"--vocab={vocab_file}", f"--output_dir={kjv_slice}"],
            "is a file",
        ),
    ]
    for i, (args, message) in enumerate(cases):
        out = tmp_path / f"out{i}"
        result = run_cli(f"--output_dir={out}", *args)  # a later --output_dir in args wins
        assert result.returncode != 0, args
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("error: ") and message in last, (args, last)
        assert not out.exists() or not os.listdir(out)


@pytest.mark.slow
def test_corpus_of_only_bad_input_fails_and_leaves_no_shards(tmp_path, vocab_file):
    corpus = tmp_path / "bad.txt"
    corpus.write_bytes(b"\xff\xfe\xfa\n\x80\x81\n")
    out = tmp_path / "out"
    result = run_cli(
        f"--input={corpus}", f"--vocab={vocab_file}", "--input_format=lines", f"--output_dir={out}"
    )
    assert result.returncode != 0 and "no training instance" in result.stderr
    assert "undecodable_line" in result.stderr
    assert not [f for f in os.listdir(out) if f.endswith(".tfrecord")] if out.exists() else True


def test_stats_json_is_valid_json(pretraining_records):
    with open(os.path.join(pretraining_records["dir"], "stats.json")) as f:
        assert json.load(f)["flags"]["dupe_factor"] == 2
