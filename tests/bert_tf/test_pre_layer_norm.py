"""A pre-LayerNorm model (the budget recipe's): masked records re-masked at the recipe's rate, train →
export → serve from a fresh process → fine-tune, and a one-line refusal wherever it would be read as
post-LN."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from bert_tf.core.masking import MaskingConfig
from bert_tf.training.data import make_dataset
from bert_tf.training.dynamic_masking import DynamicMasker
from bert_tf.training.recipes import RECIPES
from tests.bert_tf.cli import ENV, run_module, run_module_expecting_error
from tests.bert_tf.test_cli_and_export import SERVE_SCRIPT
from tests.bert_tf.test_finetune import reviews  # noqa: F401, F811  (the fixture)


def test_masked_records_are_re_masked_from_their_original_ids(pretraining_records, vocab):
    """Records masked at 15% in 10 slots, re-masked at 25% in 16: the restored text is the text the
    records were made from, and every row gets round(25% × length) predictions."""
    pattern = [pretraining_records["pattern"]]
    plain = make_dataset(pattern, 8, 64, 10, is_training=False)
    masker = DynamicMasker(vocab, MaskingConfig(0.25, 16), seed=3)
    remasked = make_dataset(pattern, 8, 64, 10, is_training=False, masker=masker,
                            records_masked=True)  # fmt: skip
    for before, after in zip(plain.take(3), remasked.take(3)):
        originals = before["input_ids"].numpy()
        rows, slots = np.nonzero(before["masked_lm_weights"].numpy())
        originals[rows, before["masked_lm_positions"].numpy()[rows, slots]] = before[
            "masked_lm_ids"
        ].numpy()[rows, slots]
        ids, weights = after["input_ids"].numpy(), after["masked_lm_weights"].numpy()
        lengths = after["input_mask"].numpy().sum(axis=1)
        assert (weights.sum(axis=1) == np.minimum(16, np.round(lengths * 0.25))).all()
        predicted = np.zeros_like(ids, bool)
        r, s = np.nonzero(weights)
        predicted[r, after["masked_lm_positions"].numpy()[r, s]] = True
        labels = after["masked_lm_ids"].numpy()[r, s]
        assert (labels == originals[r, after["masked_lm_positions"].numpy()[r, s]]).all()
        assert (ids[~predicted] == originals[~predicted]).all()
    padded = next(iter(make_dataset(pattern, 8, 64, 10, is_training=False, prediction_slots=16)))
    assert padded["masked_lm_weights"].shape == (8, 16)
    assert float(tf.reduce_sum(padded["masked_lm_weights"][:, 10:])) == 0.0


@pytest.fixture(scope="module")
def pre_ln_model(pretraining_records, vocab_file, tmp_path_factory):
    model_dir = str(tmp_path_factory.mktemp("pre_ln"))
    printed = run_module(
        "bert_tf.train",
        f"--train_files={pretraining_records['pattern']}",
        f"--eval_files={pretraining_records['pattern']}",
        f"--vocab={vocab_file}",
        f"--model_dir={model_dir}",
        "--recipe=budget",
        "--nojit_compile",
        "--sinusoidal_positions",
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_train_steps=3",
        "--eval_batches=2",
        "--seed=4",
    )
    return {"dir": model_dir, "printed": printed}


@pytest.mark.slow
def test_pre_ln_trains_exports_serves_and_fine_tunes(pre_ln_model, vocab, tmp_path):
    assert (
        "initialized from scratch (sinusoidal position embeddings, co-occurrence token embeddings"
        in pre_ln_model["printed"]
    )
    with open(os.path.join(pre_ln_model["dir"], "bert_config.json")) as f:
        config = json.load(f)
    assert config["pre_layer_norm"] is True and config["hidden_dropout_prob"] == 0.0
    assert config["initializer_range"] == RECIPES["budget"]["initializer_range"]
    saved_model = str(tmp_path / "saved_model")
    run_module("bert_tf.export", f"--checkpoint={pre_ln_model['dir']}", f"--output={saved_model}")
    ids = [vocab.cls_id] + [vocab.id_of(t) for t in ("the", "river", "bank", ".")] + [vocab.sep_id]
    served = subprocess.run(
        [sys.executable, SERVE_SCRIPT, saved_model, json.dumps(ids)],
        capture_output=True, text=True, env={**ENV, "PYTHONPATH": ""}, cwd=str(tmp_path),
    )  # fmt: skip
    assert served.returncode == 0, served.stderr[-3000:]
    result = json.loads(served.stdout.strip().splitlines()[-1])
    assert result["encode_seq_shape"] == [1, 6, 128] and result["hostile_all_finite"]


@pytest.mark.slow
def test_pre_ln_fine_tunes(pre_ln_model, reviews, tmp_path):  # noqa: F811
    out = str(tmp_path / "classifier")
    run_module(
        "bert_tf.finetune",
        f"--init_checkpoint={pre_ln_model['dir']}",
        f"--train_file={reviews}",
        "--label_column=category",
        "--labels=fresh,rotten",
        "--eval_fraction=0.2",
        f"--output_dir={out}",
        "--epochs=1",
        "--max_seq_length=16",
        "--batch_size=8",
    )
    with open(os.path.join(out, "results.json")) as f:
        assert 0.0 <= json.load(f)["eval_accuracy"] <= 1.0
    assert os.path.exists(os.path.join(out, "saved_model", "saved_model.pb"))


@pytest.mark.slow
def test_a_pre_ln_checkpoint_is_refused_where_post_ln_is_expected(
    pre_ln_model, pretraining_records, vocab_file, tmp_path
):
    error = run_module_expecting_error(
        "bert_tf.train",
        f"--train_files={pretraining_records['pattern']}",
        f"--vocab={vocab_file}",
        f"--model_dir={tmp_path / 'post'}",
        f"--init_checkpoint={pre_ln_model['dir']}",
        "--bert_config=tiny",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_train_steps=1",
    )
    assert error.startswith("error: ") and "holds pre-LayerNorm blocks" in error
    assert "post-LayerNorm blocks" in error
    error = run_module_expecting_error(
        "bert_tf.export_keras_hub_preset",
        f"--checkpoint={pre_ln_model['dir']}",
        f"--output={tmp_path / 'preset'}",
    )
    assert error.startswith("error: ") and "keras-hub's BertBackbone preset cannot hold" in error
