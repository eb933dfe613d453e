"""google-research/bert's README commands, with their flag names, run against our pipeline and trainer:
create_pretraining_data.py's line writes records, run_pretraining.py's line continues pre-training a
TF1 checkpoint in the published layout (bert_model.ckpt + bert_config.json + vocab.txt) and evaluates."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.bert_tf.cli import ENV, ROOT
from tests.bert_tf.google_format import tiny_config, write_google_checkpoint

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses

TINY = tiny_config(vocab_size=30522, max_position_embeddings=128)


def run(module: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, cwd=ROOT, env=ENV
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout + result.stderr


@pytest.fixture(scope="module")
def bert_base_dir(tmp_path_factory, vocab_file):
    """$BERT_BASE_DIR as google-research/bert ships it, for a tiny config and the real vocab."""
    directory = tmp_path_factory.mktemp("uncased_tiny")
    tokens = open(vocab_file, encoding="utf-8").read().splitlines()
    prefix, weights = write_google_checkpoint(directory, TINY, tokens, seed=3, scale=0.02)
    return directory, prefix, weights


def test_the_original_readme_command_lines_run(bert_base_dir, kjv_slice, tmp_path):
    base, prefix, google_weights = bert_base_dir
    examples = tmp_path / "tf_examples.tfrecord"
    run(
        "pipelines.create_pretraining_data",
        f"--input_file={kjv_slice}",
        f"--output_file={examples}",
        f"--vocab_file={base}/vocab.txt",
        "--do_lower_case=True",
        "--max_seq_length=128",
        "--max_predictions_per_seq=20",
        "--masked_lm_prob=0.15",
        "--random_seed=12345",
        "--dupe_factor=5",
    )
    stats = json.loads((examples / "stats.json").read_text())
    assert stats["instances"] > 100 and stats["flags"]["max_seq_length"] == 128

    output = tmp_path / "pretraining_output"
    common = [
        f"--input_file={examples}",
        f"--output_dir={output}",
        f"--bert_config_file={base}/bert_config.json",
        f"--init_checkpoint={prefix}",
        "--train_batch_size=32",
        "--max_seq_length=128",
        "--max_predictions_per_seq=20",
    ]
    log = run(
        "bert_tf.train",
        *common,
        "--do_train=True",
        "--do_eval=True",
        "--num_train_steps=20",
        "--num_warmup_steps=10",
        "--learning_rate=2e-5",
        "--save_checkpoints_steps=10",
        "--iterations_per_loop=5",
        "--max_eval_steps=3",
    )
    assert f"initialized model weights from {prefix}" in log
    checkpoints = tf.train.get_checkpoint_state(str(output / "checkpoints"))
    assert [p.rsplit("-", 1)[1] for p in checkpoints.all_model_checkpoint_paths] == ["10", "20"]
    evaluation = [json.loads(line) for line in (output / "eval_log.jsonl").read_text().splitlines()]
    assert evaluation[-1]["step"] == 20 and evaluation[-1]["nsp_accuracy"] > 0
    # Continued from the TF1 weights: 20 steps at lr 2e-5 move them far less than their own spread.
    from bert_tf.modeling.checkpoints import load_checkpoint_dir

    model = load_checkpoint_dir(str(output))[0]
    embeddings = {w.path: w.numpy() for w in model.weights}["token_embedding/embeddings"]
    moved = np.abs(embeddings - google_weights["bert/embeddings/word_embeddings"]).max()
    assert moved < 2e-3, moved

    # --do_train=false --do_eval: evaluation of the model dir's checkpoint only, no step taken.
    again = run("bert_tf.train", *common, "--do_train=false", "--do_eval", "--max_eval_steps=2")
    assert "evaluated step 20: " in again
    assert tf.train.latest_checkpoint(str(output / "checkpoints")).endswith("ckpt-20")


def test_do_train_and_do_eval_both_false_is_a_usage_error(tmp_path, kjv_slice):
    result = subprocess.run(
        [sys.executable, "-m", "bert_tf.train", f"--input_file={kjv_slice}",
         f"--output_dir={tmp_path / 'run'}", "--do_train=false"],
        capture_output=True, text=True, cwd=ROOT, env=ENV,
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: --do_train=false and --do_eval=false: nothing to do; set one of them"
    )
    assert not (tmp_path / "run").exists()
