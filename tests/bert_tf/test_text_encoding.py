"""In-graph text encoding (serving, fine-tuning) agrees with the pipeline's tokenizer and the original
truncate_seq_pair, and handles masks, empty and pair inputs."""

import itertools
import os
import random
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.serving.text_encoding import TextEncoder, kept_pair_lengths
from pipelines.instances import truncate_seq_pair
from pipelines.tokenization import WordpieceTokenizer
from tests.bert_tf.cli import ROOT


def test_kept_pair_lengths_equal_the_original_truncation():
    lengths = [
        (a, b, budget)
        for a, b, budget in itertools.product(range(0, 14), range(0, 14), range(1, 16))
    ]
    kept_a, kept_b = kept_pair_lengths(
        *(tf.constant([t[i] for t in lengths], tf.int64) for i in range(3))
    )
    for (len_a, len_b, budget), got_a, got_b in zip(lengths, kept_a.numpy(), kept_b.numpy()):
        tokens_a, tokens_b = list(range(len_a)), list(range(len_b))
        truncate_seq_pair(tokens_a, tokens_b, budget, random.Random(0))
        assert (got_a, got_b) == (len(tokens_a), len(tokens_b)), (len_a, len_b, budget)


@pytest.fixture(scope="module")
def encoder(vocab_file):
    return TextEncoder(vocab_file, max_seq_length=24)


def test_pairs_are_packed_like_the_pipeline(encoder, vocab):
    texts_a = [
        "The river bank was flooded after the storm.",
        "Ünable to go, naïve café owners said so." * 3,
        "",
    ]
    texts_b = ["Boats were lost.", "Short.", ""]
    out = encoder.encode(tf.constant(texts_a), tf.constant(texts_b))
    pipeline = WordpieceTokenizer(vocab.tokens)
    for row, (a, b) in enumerate(zip(texts_a, texts_b)):
        tokens_a, tokens_b = (list(pipeline.tokenize([t])[0]) for t in (a, b))
        budget = 24 - 2 - (1 if tokens_b else 0)
        keep_a, keep_b = (int(x) for x in kept_pair_lengths(len(tokens_a), len(tokens_b), budget))
        expected = (
            [vocab.cls_id]
            + tokens_a[:keep_a]
            + [vocab.sep_id]
            + (tokens_b[:keep_b] + [vocab.sep_id] if tokens_b else [])
        )
        n = len(expected)
        assert out["input_word_ids"][row].numpy().tolist() == expected + [0] * (24 - n)
        assert out["input_mask"][row].numpy().tolist() == [1] * n + [0] * (24 - n)
        segments = out["input_type_ids"][row].numpy()
        assert segments[: keep_a + 2].sum() == 0 and segments[keep_a + 2 : n].tolist() == [1] * (
            n - keep_a - 2
        )
    # accents stripped, not [UNK]
    assert vocab.id_of("[UNK]") not in out["input_word_ids"][1].numpy()


def test_literal_masks_become_mask_ids(encoder, vocab):
    pieces = encoder.wordpieces_with_masks(
        tf.constant(["a [MASK] b[MASK]", "[MASK][MASK]", "none", ""])
    )
    m = vocab.mask_id
    a, b = vocab.id_of("a"), vocab.id_of("b")
    assert pieces.to_list() == [[a, m, b, m], [m, m], [vocab.id_of("none")], []]


def test_invalid_utf8_is_replaced_not_an_error(encoder):
    out = encoder.encode(tf.constant([b"caf\xc3", b"\xff\xfe ok"]))
    assert out["input_mask"].numpy().sum(axis=1).min() >= 3


def test_bad_vocab_and_length_are_clear_errors(tmp_path, vocab_file):
    bad = tmp_path / "vocab.txt"
    bad.write_text("[PAD]\n[UNK]\nthe\n")
    with pytest.raises(ValueError, match="lacks"):
        TextEncoder(str(bad), 8)
    with pytest.raises(ValueError, match="at least 3"):
        TextEncoder(vocab_file, 2)
    assert np.all(
        TextEncoder(vocab_file, 3).encode(tf.constant(["long text here"]))["input_mask"].numpy()
        == 1
    )


ONEDNN_INT64_SCRIPT = """
import numpy as np, tensorflow as tf
from bert_tf.finetuning.sliding_windows import window_starts
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_pretraining_model
from bert_tf.serving.text_encoding import TextEncoder
encoder = TextEncoder(VOCAB, 16)
encoder.encode(tf.constant(["the [MASK] river", "and"]), tf.constant(["a b c", ""]))
encoder.pack(encoder.wordpieces_with_masks(tf.constant(["in the [MASK]"])))
window_starts(tf.constant([10, 3], tf.int64), 4, 2)
model = build_pretraining_model(BertConfig.named("tiny", vocab_size=50), 3)
ids = tf.constant(np.arange(32).reshape(2, 16) % 50, tf.int32)
model({"input_ids": ids, "input_mask": tf.ones_like(ids), "segment_ids": tf.zeros_like(ids),
       "masked_lm_positions": tf.constant([[1, 2, 0], [3, 0, 0]], tf.int32)})
print("done")
"""


@pytest.mark.slow  # a fresh process: oneDNN is switched on before TensorFlow loads
def test_no_int64_op_that_makes_onednn_log_an_error_line(vocab_file):
    # The in-graph packing, sliding windows and the MLM head's gather once transposed int64 tensors:
    # with oneDNN on, TensorFlow then logs `E0000 ... util.cc:131] oneDNN supports DT_INT64 only on
    # platforms with AVX-512` in every train, fine-tune and serving process.
    result = subprocess.run(
        [sys.executable, "-c", f"VOCAB = {vocab_file!r}\n" + ONEDNN_INT64_SCRIPT],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": "1", "TF_CPP_MIN_LOG_LEVEL": "0"},
    )
    assert result.returncode == 0 and "done" in result.stdout, result.stderr[-3000:]
    assert "oneDNN supports DT_INT64" not in result.stderr, result.stderr[-3000:]
