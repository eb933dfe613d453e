"""Pre-training on a time budget with the small-budget recipe: the schedule laid over the budget, a
resume that keeps it, recipe values under explicit flags, the plateau warning."""

import json
import os

import numpy as np
import pytest
from absl import flags

from bert_tf.modeling.config import BertConfig
from bert_tf.training.distribute import make_strategy
from bert_tf.training.recipes import RECIPES, apply_recipe, recipe_values
from bert_tf.training.trainer import TrainConfig, Trainer
from bert_tf.training.training_loop import (
    PLATEAU_MIN_SEQUENCES,
    PLATEAU_SHARE,
    PlateauWatch,
    Progress,
    TrainingClock,
)
from tests.bert_tf.cli import run_module


def budget_trainer(tmp_path, minutes=10.0, warmup=0.1) -> Trainer:
    config = TrainConfig(
        model_dir=str(tmp_path), train_minutes=minutes, warmup_proportion=warmup, learning_rate=1e-3
    )
    return Trainer(make_strategy(None, "cpu"), BertConfig.named("tiny", 60), config)


def test_the_rate_follows_the_budget_not_the_step(tmp_path):
    trainer = budget_trainer(tmp_path)  # 600 s, warmup 60 s
    rates = {}
    for seconds in (0.0, 30.0, 300.0, 600.0, 900.0):
        trainer.agree(False, seconds)
        rates[seconds] = trainer.learning_rate(step=12345)
    assert rates[0.0] == 0.0 and np.isclose(rates[30.0], 5e-4)
    assert np.isclose(rates[300.0], 1e-3 * (1 - 240 / 540), rtol=1e-5)  # 50% of the budget
    assert rates[600.0] == 0.0 and rates[900.0] == 0.0


def test_progress_ends_at_the_budget_and_counts_earlier_runs():
    config = TrainConfig(model_dir="", train_minutes=2.0)
    progress = Progress(config, step=50, clock=TrainingClock(restored_seconds=100.0))
    assert not progress.finished() and 0.8 < progress.fraction() < 0.85
    progress.advance(60, 119.0)
    assert not progress.finished() and "step 60 " in progress.line(_record())
    progress.advance(61, 120.5)
    assert progress.finished() and progress.line(_record()).endswith("2.0/2 min, ETA 0 s")


def _record(share=0.2):
    return dict(loss=1.0, mlm_loss=1.0, mlm_accuracy=0.5, learning_rate=1e-3, examples_per_second=9.0,
                mlm_top10_share=share)  # fmt: skip


def test_the_plateau_warning_fires_once_after_a_quarter_of_the_run():
    watch, enough = PlateauWatch(), PLATEAU_MIN_SEQUENCES
    assert watch.check(_record(share=0.95), progress=0.2, sequences=enough) is None  # too early
    assert watch.check(_record(share=0.95), progress=0.3, sequences=enough - 1) is None  # too few
    assert watch.check(_record(share=PLATEAU_SHARE - 0.1), progress=0.5, sequences=enough) is None
    warning = watch.check(_record(share=0.95), progress=0.3, sequences=enough)
    assert warning.startswith("warning: MLM plateau") and "vocabulary" in warning
    assert watch.check(_record(share=0.95), progress=0.9, sequences=enough) is None  # said once


def _flag_values(argv):
    values = flags.FlagValues()
    flags.DEFINE_float("learning_rate", 1e-4, "", flag_values=values)
    flags.DEFINE_float("warmup_proportion", None, "", flag_values=values)
    flags.DEFINE_integer("train_batch_size", 32, "", flag_values=values)
    flags.DEFINE_float("masked_lm_prob", None, "", flag_values=values)
    flags.DEFINE_bool("no_nsp", False, "", flag_values=values)
    flags.DEFINE_bool("jit_compile", False, "", flag_values=values)
    flags.DEFINE_bool("pre_layer_norm", None, "", flag_values=values)
    flags.DEFINE_float("dropout", None, "", flag_values=values)
    flags.DEFINE_bool("sinusoidal_positions", False, "", flag_values=values)
    flags.DEFINE_float("initializer_range", None, "", flag_values=values)
    flags.DEFINE_bool("cooccurrence_embeddings", False, "", flag_values=values)
    values(["prog", *argv])
    return values


def test_explicit_flags_override_the_recipe():
    values = _flag_values(["--learning_rate=5e-4", "--dropout=0.1"])
    applied = apply_recipe(values, "budget", fresh_model=True)
    assert values.learning_rate == 5e-4 and values.dropout == 0.1
    assert "learning_rate" not in applied and "dropout" not in applied
    assert values.pre_layer_norm is True and values.jit_compile is True
    assert values.masked_lm_prob == RECIPES["budget"]["masked_lm_prob"]
    # a checkpoint's or a file's architecture is its own: the recipe leaves it alone
    values = _flag_values([])
    apply_recipe(values, "budget", fresh_model=False)
    assert values.pre_layer_norm is None and values.dropout is None
    assert values.initializer_range is None
    assert apply_recipe(_flag_values([]), "bert", fresh_model=True) == {}
    with pytest.raises(ValueError, match="unknown --recipe=fast"):
        recipe_values("fast", fresh_model=True)


@pytest.mark.slow
def test_a_budget_run_resumes_with_the_time_it_spent(pretraining_records, vocab_file, tmp_path):
    model_dir = str(tmp_path / "budget")
    flags_ = [
        f"--train_files={pretraining_records['pattern']}",
        f"--eval_files={pretraining_records['pattern']}",
        f"--vocab={vocab_file}",
        f"--model_dir={model_dir}",
        "--recipe=budget",
        "--nojit_compile",  # (seconds of XLA compilation at each start; the recipe's choice)
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--log_every=5",
        "--eval_batches=2",
        "--seed=2",
    ]
    first = run_module("bert_tf.train", *flags_, "--train_minutes=0.15")
    assert "--recipe=budget: --learning_rate=0.002" in first and "/0.15 min" in first
    with open(os.path.join(model_dir, "train_log.jsonl")) as f:
        log = [json.loads(line) for line in f]
    assert 9.0 <= log[-1]["training_seconds"] < 30 and log[-1]["learning_rate"] == 0.0
    with open(os.path.join(model_dir, "bert_config.json")) as f:
        assert json.load(f)["pre_layer_norm"] is True
    # the same budget again: spent already, nothing more to train
    again = run_module("bert_tf.train", *flags_, "--train_minutes=0.15")
    assert (
        f"nothing to train: the model dir is at the end of its schedule (step {log[-1]['step']})"
        in again
    )
    longer = run_module("bert_tf.train", *flags_, "--train_minutes=0.3")
    with open(os.path.join(model_dir, "train_log.jsonl")) as f:
        resumed = [json.loads(line) for line in f][len(log) :]
    assert resumed[0]["step"] > log[-1]["step"] and "/0.3 min" in longer
    assert resumed[0]["training_seconds"] > log[-1]["training_seconds"]
    assert 18.0 <= resumed[-1]["training_seconds"] < 40
