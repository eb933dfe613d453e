"""The entry points as a user runs them: train (and resume), export, then serve from a fresh process
that imports only tensorflow + tensorflow_text."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.bert_tf.cli import ENV, run_module, run_module_expecting_error

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses


def test_train_logs_checkpoints_and_resumes(trained):
    assert "initialized from scratch" in trained["first"] and "step 4/4" in trained["first"]
    assert "resumed from" in trained["second"] and "at step 4" in trained["second"]
    assert "step 6/6" in trained["second"] and "step 2/6" not in trained["second"]
    with open(os.path.join(trained["dir"], "train_log.jsonl")) as f:
        log = [json.loads(line) for line in f]
    assert [r["step"] for r in log] == [1, 2, 4, 6]
    for record in log:
        assert {
            "loss",
            "mlm_loss",
            "mlm_accuracy",
            "nsp_loss",
            "nsp_accuracy",
            "learning_rate",
            "grad_norm",
            "examples_per_second",
            "tokens_per_second",
        } <= set(record)
        assert np.isclose(record["loss"], record["mlm_loss"] + record["nsp_loss"])
    with open(os.path.join(trained["dir"], "eval_log.jsonl")) as f:
        evals = [json.loads(line) for line in f]
    assert [r["step"] for r in evals] == [4, 6] and all(r["examples"] == 24 for r in evals)
    assert evals[-1]["loss"] > 0 and "eval at step 6" in trained["second"]
    assert os.listdir(os.path.join(trained["dir"], "eval"))
    events = os.listdir(os.path.join(trained["dir"], "train"))
    assert any(name.startswith("events.out.tfevents") for name in events)
    assert sorted(os.listdir(os.path.join(trained["dir"], "checkpoints")))[0] == "checkpoint"
    assert {"bert_config.json", "vocab.txt"} <= set(os.listdir(trained["dir"]))


def test_tensorboard_has_scalars_hparams_and_config(trained):
    train_dir = os.path.join(trained["dir"], "train")
    tags = set()
    for name in os.listdir(train_dir):
        for event in tf.compat.v1.train.summary_iterator(os.path.join(train_dir, name)):
            tags.update(value.tag for value in event.summary.value)
    assert {
        "loss",
        "mlm_loss",
        "mlm_accuracy",
        "nsp_loss",
        "nsp_accuracy",
        "learning_rate",
        "grad_norm",
        "examples_per_second",
        "tokens_per_second",
    } <= tags
    assert {"config/flags", "config/bert_config", "_hparams_/session_start_info"} <= tags


def test_train_rejects_missing_files(tmp_path, vocab_file):
    error = run_module_expecting_error(
        "bert_tf.train",
        f"--train_files={tmp_path}/none-*.tfrecord",
        f"--vocab={vocab_file}",
        f"--model_dir={tmp_path}/m",
        "--num_train_steps=1",
    )
    assert "no TFRecord file matches" in error
    error = run_module_expecting_error(
        "bert_tf.train",
        f"--train_files={tmp_path}/none-*.tfrecord",
        f"--model_dir={tmp_path}/m",
        "--num_train_steps=0",  # a run that would end without a checkpoint
    )
    assert error == "error: --num_train_steps=0: train for at least 1 step"


def test_required_flags_left_unset_are_named_in_one_line(tmp_path):
    assert (
        run_module_expecting_error("bert_tf.export", f"--checkpoint={tmp_path}")
        == "error: --output is required"
    )
    assert (
        run_module_expecting_error("bert_tf.import_hf_checkpoint")
        == "error: --hf_dir and --output_dir are required"
    )


SERVE_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "serve_in_fresh_process.py")


@pytest.fixture(scope="module")
def served(trained, tmp_path_factory, vocab):
    """Every signature of the exported model, called from a fresh process without project imports."""
    out = str(tmp_path_factory.mktemp("export") / "saved_model")
    printed = run_module(
        "bert_tf.export",
        f"--checkpoint={trained['dir']}",
        f"--output={out}",
        "--max_seq_length=16",
        "--top_k=3",
    )
    assert "encode, fill_mask, next_sentence, serving_default" in printed
    ids = [vocab.cls_id] + [vocab.id_of(t) for t in ("the", "river", "bank", ".")] + [vocab.sep_id]
    result = subprocess.run(
        [sys.executable, SERVE_SCRIPT, out, json.dumps(ids)],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": ""},
        cwd=str(tmp_path_factory.mktemp("elsewhere")),
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_export_serves_text_and_ids_from_a_fresh_process(served):
    assert served["signatures"] == ["encode", "fill_mask", "next_sentence", "serving_default"]
    assert served["encode_seq_shape"] == [1, 6, 128]
    assert (
        served["text_mask"][0] == [1] * 6 + [0] * 10 and served["text_mask"][1] == [1, 1] + [0] * 14
    )
    # In-graph tokenization + packing gives the same ids as our pipeline tokenizer: same pooled vector.
    np.testing.assert_allclose(served["text_pooled"], served["encode_pooled"], rtol=1e-4, atol=1e-5)
    # [CLS] the river bank . [SEP] it flooded . [SEP] — and a row with an empty B stays a single text.
    assert (
        served["pair_mask"][0] == [1] * 10 + [0] * 6
        and served["pair_mask"][1] == [1] * 4 + [0] * 12
    )


def test_fill_mask_and_next_sentence_signatures(served, vocab):
    fill = served["fill_mask"]
    # "[CLS] the [MASK] bank was [MASK] . [SEP]": masks at 2 and 5; no mask → all padding; "[MASK]" alone → 1.
    assert fill["mask_positions"] == [[2, 5], [-1, -1], [1, -1]]
    assert np.array(fill["top_tokens"]).shape == (3, 2, 3)
    for row_tokens, row_ids, row_probs, row_pos in zip(
        fill["top_tokens"], fill["top_ids"], fill["top_probabilities"], fill["mask_positions"]
    ):
        for tokens, ids, probs, position in zip(row_tokens, row_ids, row_probs, row_pos):
            if position < 0:
                assert tokens == [""] * 3 and ids == [-1] * 3 and probs == [0.0] * 3
            else:
                assert tokens == [vocab.tokens[i] for i in ids]
                assert probs == sorted(probs, reverse=True) and 0 < sum(probs) <= 1 + 1e-5
    assert all(0.0 <= p <= 1.0 for p in served["is_next_probability"])


def test_contextual_embeddings_differ_across_contexts(served):
    """The "bank" example (docs/recipe.md §7): same word, different sentence → a different vector;
    same sentence → same."""
    assert served["bank_cosine_same_context"] > 0.9999
    assert served["bank_cosine_different_context"] < 0.99


def test_hostile_and_fuzzed_text_never_crashes_serving(served):
    assert served["hostile_rows"] == 1_007 and served["hostile_all_finite"]


def test_mlm_only_training_and_export(pretraining_records, vocab_file, tmp_path):
    model_dir = str(tmp_path / "mlm_only")
    out = run_module(
        "bert_tf.train",
        f"--train_files={pretraining_records['pattern']}",
        f"--vocab={vocab_file}",
        f"--model_dir={model_dir}",
        "--train_batch_size=4",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_train_steps=2",
        "--log_every=1",
        "--no_nsp",
    )
    assert "step 2/2" in out and "nsp" not in out.split("step 2/2")[1].splitlines()[0]
    with open(os.path.join(model_dir, "train_log.jsonl")) as f:
        last = [json.loads(line) for line in f][-1]
    assert "nsp_loss" not in last and last["loss"] == last["mlm_loss"]
    run_module("bert_tf.export", f"--checkpoint={model_dir}", f"--output={tmp_path / 'sm'}")
    assert os.path.exists(tmp_path / "sm" / "saved_model.pb")
