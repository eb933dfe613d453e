"""The sentence-pair task maker (bert_tf/tasks/make_pair_task): balanced labels, true next lines, negatives from
other documents, held-out documents never seen in training."""

import csv
import random

import pytest

from bert_tf.tasks.make_pair_task import make_pairs, make_task


def test_pairs_are_next_lines_or_lines_of_other_documents():
    documents = [[f"d{d} line {i}" for i in range(5)] for d in range(8)]
    rows = make_pairs(documents, 1000, random.Random(3))
    assert len(rows) == 8 * 4  # every adjacent pair once
    where = {line: (d, i) for d, lines in enumerate(documents) for i, line in enumerate(lines)}
    for a, b, label in rows:
        (da, ia), (db, ib) = where[a], where[b]
        assert (label == "next") == (da == db and ib == ia + 1)
        assert label == "next" or da != db
    assert 0.35 < sum(label == "next" for _, _, label in rows) / len(rows) < 0.65
    with pytest.raises(ValueError, match="at least 2 documents"):
        make_pairs(documents[:1], 10, random.Random(0))


def test_task_files_hold_out_whole_documents(samples, tmp_path):
    counts = make_task(
        samples["kjv_lines"], str(tmp_path), eval_every=10, max_train=500, max_eval=200, seed=7
    )
    assert (
        counts["train_pairs"] == 500
        and counts["eval_pairs"] == 200
        and counts["eval_documents"] > 100
    )
    read = {
        name: list(csv.DictReader(open(tmp_path / f"{name}.csv", encoding="utf-8")))
        for name in ("train", "eval")
    }
    assert set(read["train"][0]) == {"text", "text_b", "label"}
    train_text = {r["text"] for r in read["train"]} | {r["text_b"] for r in read["train"]}
    eval_text = {r["text"] for r in read["eval"]} | {r["text_b"] for r in read["eval"]}
    # KJV verses repeat across chapters now and then ("And the LORD spake unto Moses, saying,"); nearly none.
    assert len(train_text & eval_text) < 0.05 * len(eval_text)
    assert {r["label"] for r in read["eval"]} == {"next", "random"}
