"""Token tagging end to end: tagged files in (CoNLL, CSV, JSONL) with counted skips, the truecasing task
made from real text, the in-graph windows against their pure statement, fine-tuning, and the exported
SavedModel serving raw text in a fresh process with the evaluated answers."""

from __future__ import annotations

import bz2
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from bert_tf.core.vocab import read_tokens
from bert_tf.finetuning.finetune_common import FineTuneConfig
from bert_tf.finetuning.finetune_tagging import finetune_tagging, tag_names_of
from bert_tf.finetuning.sliding_windows import window_starts
from bert_tf.finetuning.tagger import TaggerServingModule, build_tagger
from bert_tf.finetuning.tagging_data import best_window, read_tagged_sentences, split_words, windows
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_backbone
from bert_tf.serving.text_encoding import TextEncoder
from bert_tf.tasks.make_case_task import make_task
from tests.bert_tf.cli import run_fresh_python

HOSTILE = [
    "Hello, Zoë's 2 cafés!",
    "",
    "x\x00y  \u200d ok",
    "東京タワー (Tōkyō)",
    "a_b\tc\n",
    "😀👍🏽 fine",
]


def test_tagged_files_in_three_layouts_with_counted_skips(tmp_path):
    conll = tmp_path / "a.conll.bz2"
    conll.write_bytes(bz2.compress(b"-DOCSTART- O\n\nJohn B-PER\nlives O\nlonely\n\nParis B-LOC\n"))
    assert read_tagged_sentences(str(conll)) == (
        [(["John", "lives"], ["B-PER", "O"]), (["Paris"], ["B-LOC"])],
        {"line_without_tag": 1},
    )
    csv_file = tmp_path / "a.tsv"
    csv_file.write_text("w\tt\nJohn lives\tB-PER O\nParis\tB-LOC O\n\tO\n")
    assert read_tagged_sentences(str(csv_file), "w", "t") == (
        [(["John", "lives"], ["B-PER", "O"])],
        {"tag_count_differs_from_word_count": 1, "no_words": 1},
    )
    jsonl = tmp_path / "a.jsonl"
    jsonl.write_text('{"words": ["x"], "tags": ["O"]}\nnot json\n{"words": "x", "tags": ["O"]}\n')
    assert read_tagged_sentences(str(jsonl)) == ([(["x"], ["O"])], {"not_words_and_tags": 2})
    with pytest.raises(ValueError, match="no column"):
        read_tagged_sentences(str(csv_file))
    jsonl.write_text("oops\n")
    with pytest.raises(ValueError, match="no usable tagged sentences"):
        read_tagged_sentences(str(jsonl))


def test_case_task_from_real_text_is_held_out_by_document(samples, tmp_path):
    counts = make_task(samples["kjv_lines"], str(tmp_path / "case"), 10, 300, 100, 3, seed=7)
    train, _ = read_tagged_sentences(str(tmp_path / "case/train.conll"))
    held_out, _ = read_tagged_sentences(str(tmp_path / "case/eval.conll"))
    assert (len(train), len(held_out)) == (300, 100) == (counts["train_sentences"], 100)
    assert not {" ".join(w) for w, _ in train} & {" ".join(w) for w, _ in held_out}
    tags = {t for _, tags in train for t in tags}
    assert {"O", "CAP", "UPPER"} <= tags <= {"O", "CAP", "UPPER", "MIXED"}
    with pytest.raises(ValueError, match="exists"):
        make_task(samples["kjv_lines"], str(tmp_path / "case"), 10, 300, 100, 3, seed=7)


def test_a_held_out_tag_never_trained_is_a_one_line_error():
    train, held_out = [(["a"], ["O"]), (["B"], ["CAP"])], [(["C"], ["UPPER"])]
    assert tag_names_of(None, train, []) == ["CAP", "O"]
    with pytest.raises(ValueError, match=r"tags \['UPPER'\] are not among the 2 tags trained"):
        tag_names_of(None, train, held_out)
    assert tag_names_of(["O", "CAP", "UPPER"], train, held_out) == ["O", "CAP", "UPPER"]


@pytest.fixture(scope="module")
def random_tagger(vocab_file):
    keras.utils.set_random_seed(3)
    backbone = build_backbone(BertConfig.named("tiny", len(read_tokens(vocab_file))))
    tagger = build_tagger(backbone, 3)
    encoder = TextEncoder(vocab_file, max_seq_length=10)
    return TaggerServingModule(tagger, encoder, ["O", "CAP", "UPPER"], stride=3, default_tag="O")


def test_graph_windows_and_words_follow_the_pure_rules(random_tagger):
    for n in range(0, 30):
        for length, stride in ((8, 3), (8, 8), (5, 2)):
            got = window_starts(tf.constant([n], tf.int64), length, stride).to_list()[0]
            assert got == [start for start, _ in windows(n, length, stride)], (n, length, stride)
    out = random_tagger.serve(tf.constant(HOSTILE))
    for row, text in enumerate(HOSTILE):
        count = out["word_count"][row].numpy()
        words = [w.decode() for w in out["words"][row, :count].numpy()]
        assert words == split_words(text), text
        starts, ends = out["word_starts"][row, :count].numpy(), out["word_ends"][row, :count]
        assert [text.encode()[s:e].decode() for s, e in zip(starts, ends.numpy())] == words


def test_each_word_is_read_from_its_max_context_window(random_tagger):
    words = split_words("And the LORD said unto Moses , Go in unto Pharaoh , and tell him .")
    served = random_tagger.tag_words(tf.constant([words]))
    encoder, tagger = random_tagger.encoder, random_tagger.tagger
    pieces = [encoder.tokenizer.tokenize(tf.constant([w])).flat_values.numpy() for w in words]
    flat = np.concatenate(pieces)
    spans = windows(len(flat), 8, 3)
    assert len(spans) > 3  # the sentence really is cut into windows
    rows = [np.concatenate([[encoder.cls_id], flat[s:e], [encoder.sep_id]]) for s, e in spans]
    inputs = {"input_word_ids": tf.constant(np.stack(rows), tf.int32)}
    inputs["input_mask"] = tf.ones_like(inputs["input_word_ids"])
    inputs["input_type_ids"] = tf.zeros_like(inputs["input_word_ids"])
    logits = tagger(inputs, training=False).numpy()
    first = np.cumsum([0] + [len(p) for p in pieces[:-1]])
    expected = [
        tf.nn.softmax(logits[best_window(spans, p), 1 + p - spans[best_window(spans, p)][0]])
        for p in first
    ]
    np.testing.assert_allclose(
        served["probabilities"][0].numpy(), np.max(expected, axis=1), atol=1e-5
    )
    padded = random_tagger.tag_words(tf.constant([["Moses", "", ""], ["\x01", "a", ""]]))
    assert padded["word_count"].numpy().tolist() == [1, 2]
    assert padded["tags"][1, 0].numpy() == b"O" and padded["probabilities"][1, 0] == 0.0


@pytest.fixture(scope="module")
def case_run(samples, vocab_file, tmp_path_factory):
    root = tmp_path_factory.mktemp("tagging")
    make_task(samples["kjv_lines"], str(root / "case"), 10, 600, 150, 3, seed=1)
    keras.utils.set_random_seed(1)
    cfg = FineTuneConfig(
        task="tagging",
        train_file=str(root / "case/train.conll"),
        eval_file=str(root / "case/eval.conll"),
        output_dir=str(root / "run"),
        vocab=vocab_file,
        text_column="words",
        label_column="tags",
        max_seq_length=24,  # KJV verses run longer: windows are exercised
        doc_stride=8,
        epochs=3,
        learning_rate=1e-3,
    )
    return root, finetune_tagging(cfg)


@pytest.mark.slow  # the fixture fine-tunes for ≈ 40 s
def test_tagging_learns_and_writes_its_results(case_run):
    root, results = case_run
    assert results["train_windows"] > results["train_sentences"] == 600
    with open(root / "run/results.json") as f:
        assert json.load(f)["eval_token_accuracy"] == results["eval_token_accuracy"]
    # From random init, three epochs already beat tagging every word with the commonest class
    # (sentence-initial capitals, LORD, God, Israel).
    assert results["eval_token_accuracy"] > results["default_tag_accuracy"] + 0.02
    assert results["eval_entity_f1"] > 0.1
    assert os.path.exists(root / "run/curves.png")


SERVE = """
import json, sys
import tensorflow as tf, tensorflow_text  # noqa
tagger = tf.saved_model.load(sys.argv[1])
words = json.loads(sys.argv[2])
tagged = tagger.signatures["tag_words"](words=tf.ragged.constant(words).to_tensor(""))
raw = tagger.signatures["serving_default"](text=tf.constant(json.loads(sys.argv[3])))
text = lambda array: [[b.decode() for b in row] for row in array.numpy()]
print(json.dumps({"tags": text(tagged["tags"]), "raw_words": text(raw["words"]),
                  "raw_count": raw["word_count"].numpy().tolist()}))
"""


@pytest.mark.slow
def test_a_fresh_process_serves_the_evaluated_tags(case_run, tmp_path):
    root, results = case_run
    held_out, _ = read_tagged_sentences(str(root / "case/eval.conll"))
    served = run_fresh_python(
        SERVE,
        str(root / "run/saved_model"),
        json.dumps([w for w, _ in held_out]),
        json.dumps(HOSTILE),
        cwd=str(tmp_path),
    )
    correct = sum(
        p == g for (_, tags), row in zip(held_out, served["tags"]) for p, g in zip(row, tags)
    )
    accuracy = correct / sum(len(tags) for _, tags in held_out)
    assert accuracy == pytest.approx(results["eval_token_accuracy"], abs=1e-9)
    assert [row[:n] for row, n in zip(served["raw_words"], served["raw_count"])] == [
        split_words(text) for text in HOSTILE
    ]
