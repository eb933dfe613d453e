"""User tools around the pipeline: learning a vocabulary, inspecting TFRecords."""

import subprocess
import sys

import pytest

from bert_tf.core.vocab import Vocab
from pipelines.inspection import render
from tests.bert_tf.cli import ENV, ROOT, run_module


@pytest.mark.slow
def test_build_vocab_learns_a_bert_layout_vocabulary(kjv_slice, tmp_path):
    out = tmp_path / "vocab.txt"
    printed = run_module(
        "pipelines.build_vocab",
        f"--input={kjv_slice}",
        "--input_format=lines",
        f"--output={out}",
        "--vocab_size=1500",
        "--num_unused=10",
    )
    tokens = out.read_text(encoding="utf-8").splitlines()
    reserved = (
        ["[PAD]"] + [f"[unused{i}]" for i in range(10)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    )
    # a small corpus has few frequent pieces
    assert tokens[:15] == reserved and 300 < len(tokens) <= 1500
    assert {"lord", "god", "the", "##s"} <= set(tokens) and all(t == t.lower() for t in tokens[15:])
    vocab = Vocab.from_file(str(out))  # the pipeline accepts it
    assert vocab.cls_id == 12 and vocab.random_token_ids.min() == 15
    unk = float(printed.rsplit("[UNK] rate on the input: ", 1)[1].rstrip("%\n"))
    assert unk < 0.5, printed


@pytest.mark.slow
def test_build_vocab_rejects_missing_input(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pipelines.build_vocab",
            f"--input={tmp_path}/none*.txt",
            f"--output={tmp_path}/v.txt",
        ],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=ROOT,
    )
    assert result.returncode != 0 and "matches no file" in result.stderr.strip().splitlines()[-1]


def test_render_shows_masks_segments_and_label(vocab):
    ids = [
        vocab.id_of(t) for t in ("[CLS]", "the", "[MASK]", "bank", "[SEP]", "it", "lake", "[SEP]")
    ]
    example = {
        "input_ids": ids + [0, 0],
        "input_mask": [1] * 8 + [0, 0],
        "segment_ids": [0] * 5 + [1] * 3 + [0, 0],
        "masked_lm_positions": [2, 5, 6, 0],
        "masked_lm_weights": [1.0, 1.0, 1.0, 0.0],
        "masked_lm_ids": [vocab.id_of("river"), vocab.id_of("it"), vocab.id_of("flooded"), 0],
        "next_sentence_labels": [1],
    }
    assert render(example, list(vocab.tokens)) == (
        "A: [CLS] the [MASK]→river bank [SEP]\n   B: {=it} {lake→flooded} [SEP]\n"
        "   NSP: NotNext (B is random); 8 tokens, 3 to predict"
    )


@pytest.mark.slow
def test_inspect_tfrecords_prints_examples_and_stats(pretraining_records, vocab_file):
    printed = run_module(
        "pipelines.inspect_tfrecords",
        f"--input={pretraining_records['pattern']}",
        f"--vocab={vocab_file}",
        "--num_examples=2",
    )
    assert (
        printed.startswith("[0] A: [CLS] ") and "[1] A: [CLS]" in printed and "[MASK]→" in printed
    )
    assert (
        "stats.json:" in printed
        and f"instances {pretraining_records['stats']['instances']}" in printed
    )
