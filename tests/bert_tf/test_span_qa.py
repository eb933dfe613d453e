"""Extractive QA end to end: SQuAD JSON in with counted skips, run_squad's windows and targets, the
in-graph answer search against its pure statement, the cloze set made from real text, fine-tuning,
and a fresh process serving the evaluated answers."""

from __future__ import annotations

import json
import os

import keras
import pytest
import tensorflow as tf

from bert_tf.core.vocab import read_tokens
from bert_tf.finetuning.finetune_common import FineTuneConfig
from bert_tf.finetuning.finetune_span_qa import finetune_span_qa
from bert_tf.finetuning.span_answers import best_spans, choose_answer, squad_scores
from bert_tf.finetuning.span_qa import SpanQaServingModule, build_span_qa
from bert_tf.finetuning.squad_data import Question, first_answer_words, qa_rows, read_squad
from bert_tf.finetuning.tagging_data import best_window, split_words, windows, word_spans
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.model import build_backbone
from bert_tf.serving.text_encoding import TextEncoder
from bert_tf.tasks.make_cloze_task import make_task
from tests.bert_tf.cli import run_fresh_python

CONTEXT = "And Moses went up unto Mount Sinai, and abode there forty days with Aaron his brother."


def squad(paragraphs) -> dict:
    return {"version": "2.0", "data": [{"title": "t", "paragraphs": paragraphs}]}


def test_squad_questions_with_counted_skips(tmp_path):
    qas = [
        {"id": "a", "question": "Who went up?", "answers": [{"text": "Moses", "answer_start": 4}]},
        {"id": "b", "question": "Who?", "answers": [{"text": "Moses", "answer_start": 5}]},
        {"id": "c", "question": " ", "answers": [{"text": "Moses", "answer_start": 4}]},
        {"id": "d", "question": "Why?", "answers": [], "is_impossible": True},
        {"id": "e", "question": "How?", "answers": []},
    ]
    path = tmp_path / "train.json"
    path.write_text(
        json.dumps(squad([{"context": CONTEXT, "qas": qas}, {"context": "", "qas": qas}]))
    )
    questions, skipped = read_squad(str(path))
    assert [q.id for q in questions] == ["a", "d"]
    assert questions[1].answers == []
    assert skipped == {
        "answer_offset_does_not_match_text": 1,
        "empty_question": 1,
        "no_answer_and_not_marked_impossible": 1,
        "empty_context": 5,
    }
    path.write_text("[1, 2]")
    with pytest.raises(ValueError, match="not SQuAD JSON"):
        read_squad(str(path))


def test_windows_and_targets_follow_run_squad():
    question = Question("q", "where", CONTEXT, [("Mount Sinai", 23)])
    words = split_words(CONTEXT)
    assert first_answer_words(question) == (5, 6)  # Mount Sinai; the comma stays out
    pieces = [[100 + i] for i in range(len(words))]
    pieces[5] = [105, 205]  # a word of two pieces
    rows = qa_rows([1, 2, 3], pieces, (5, 6), 12, 2, 3, cls_id=101, sep_id=102)
    assert rows[0][0][:4] == [101, 1, 2, 102]  # the question cut to 2 pieces
    for ids, first, start, end in rows:
        assert len(ids) <= 12 and first == 4
        if start:  # the whole answer is in this window: its first and last piece
            assert ids[start : end + 1] == [105, 205, 106]
    assert [r[2] for r in rows].count(0) < len(rows) and rows[-1][2:] == (0, 0)


@pytest.fixture(scope="module")
def random_qa(vocab_file):
    keras.utils.set_random_seed(5)
    model = build_span_qa(build_backbone(BertConfig.named("tiny", len(read_tokens(vocab_file)))))
    return SpanQaServingModule(model, TextEncoder(vocab_file, 16), 4, 3, 4)


def pure_answer(module, question: str, context: str, null_threshold=None):
    """The answer by squad_data's rows, the model, and span_answers' search (every start and end)."""
    encoder, words = module.encoder, split_words(context)
    query = encoder.wordpieces(tf.constant([question])).to_list()[0]
    pieces = encoder.tokenizer.tokenize(tf.ragged.constant([words])).merge_dims(-2, -1).to_list()[0]
    rows = qa_rows(query, pieces, None, 16, 4, 3, encoder.cls_id, encoder.sep_id)
    n_pieces, first = sum(map(len, pieces)), rows[0][1]
    spans = windows(n_pieces, 16 - first - 1, min(3, 16 - first - 1))
    piece_word = [w for w, word in enumerate(pieces) for _ in word]
    best, null = [], []
    for (ids, _, _, _), (start, end) in zip(rows, spans):
        x = {"input_word_ids": tf.constant([ids], tf.int32)}
        x["input_mask"] = tf.ones_like(x["input_word_ids"])
        x["input_type_ids"] = tf.constant([[0] * first + [1] * (len(ids) - first)], tf.int32)
        logits = module.model(x)
        s, e = logits["start"][0].numpy(), logits["end"][0].numpy()
        owned = [best_window(spans, p) == len(null) for p in range(start, end)]
        context_range = range(first, first + end - start)
        found = best_spans(s, e, context_range, 10**6, 4, [False] * first + owned + [False])
        best += [(score, start + i - first, start + j - first) for score, i, j in found[:1]]
        null.append(s[0] + e[0])
    chosen = choose_answer(
        best, min(null) if null_threshold is not None else None, null_threshold or 0
    )
    if chosen is None:
        return ""
    offsets = word_spans(context)
    return context[offsets[piece_word[chosen[1]]][0] : offsets[piece_word[chosen[2]]][1]]


def test_graph_answers_equal_the_pure_search(random_qa):
    questions = ["Who went up unto the mount?", "how many days", "", "Zoë?"]
    contexts = [CONTEXT, CONTEXT.upper(), "Zoë's café, 2 rooms.", ""]
    model, encoder = random_qa.model, random_qa.encoder
    for threshold in (None, 0.0, -1.0):  # SQuAD 1.1, then 2.0 with two null thresholds
        module = SpanQaServingModule(model, encoder, 4, 3, 4, null_threshold=threshold)
        served = module.serve(tf.constant(questions), tf.constant(contexts))
        for row, (question, context) in enumerate(zip(questions, contexts)):
            answer = served["answer"][row].numpy().decode()
            start, end = served["answer_start"][row].numpy(), served["answer_end"][row].numpy()
            assert answer == (context[start:end] if start >= 0 else "")
            expected = pure_answer(module, question, context, threshold) if context else ""
            assert answer == expected, (threshold, question)


@pytest.fixture(scope="module")
def cloze(samples, tmp_path_factory):
    root = tmp_path_factory.mktemp("cloze")
    counts = make_task(samples["kjv_lines"], str(root), 5, 10, (200, 60), seed=3, max_per_answer=3)
    return root, counts


def test_cloze_set_from_real_text(cloze):
    root, counts = cloze
    train, skipped_train = read_squad(str(root / "train.json"))
    held_out, skipped_eval = read_squad(str(root / "eval.json"))
    assert (len(train), len(held_out)) == (200, 60) and not skipped_train and not skipped_eval
    assert not {q.context for q in train} & {q.context for q in held_out}
    answers = [q.answers[0][0] for q in train]
    assert max(answers.count(a) for a in answers) <= 3
    for q in train:  # the question is a sentence of the context with the answer replaced
        ((answer, start),) = q.answers
        assert any(
            q.context[start - k : start] == q.question[:k]
            and q.context[start + len(answer) :].startswith(q.question[k + len(wh) :])
            for wh in ("what", "how many")
            for k in range(len(q.question))
            if q.question.startswith(wh, k)
        ), q
    with pytest.raises(ValueError, match="exists"):
        make_task("unused", str(root), 5, 10, (1, 1), seed=3)


@pytest.fixture(scope="module")
def qa_run(cloze, vocab_file):
    root, _ = cloze
    keras.utils.set_random_seed(2)
    cfg = FineTuneConfig(
        task="span_qa",
        train_file=str(root / "train.json"),
        eval_file=str(root / "eval.json"),
        output_dir=str(root / "run"),
        vocab=vocab_file,
        max_seq_length=64,  # five verses run longer: windows are exercised
        max_query_length=24,
        doc_stride=16,
        epochs=2,
        learning_rate=1e-3,
    )
    return root, finetune_span_qa(cfg)


@pytest.mark.slow  # the fixture fine-tunes for ≈ 40 s
def test_span_qa_trains_and_reports_official_scores(qa_run):
    root, results = qa_run
    assert results["train_windows"] > results["train_questions"] == 200
    assert results["squad_version"] == "1.1" and os.path.exists(root / "run/curves.png")
    with open(root / "run/results.json") as f:
        assert json.load(f)["eval_f1"] == results["eval_f1"] >= results["eval_exact_match"]


SERVE = """
import json, sys
import tensorflow as tf, tensorflow_text  # noqa
qa = tf.saved_model.load(sys.argv[1])
rows = json.loads(sys.argv[2])
out = qa.signatures["serving_default"](question=tf.constant([q for q, _ in rows]),
                                       context=tf.constant([c for _, c in rows]))
print(json.dumps({"answer": [a.decode() for a in out["answer"].numpy()],
                  "start": out["answer_start"].numpy().tolist(), "end": out["answer_end"].numpy().tolist()}))
"""


@pytest.mark.slow
def test_a_fresh_process_serves_the_evaluated_answers(qa_run, tmp_path):
    root, results = qa_run
    held_out, _ = read_squad(str(root / "eval.json"))
    hostile = [("", ""), ("who?", ""), ("", "x\x00y z"), ("😀", "東京タワー (Tōkyō) 1958")]
    rows = [(q.question, q.context) for q in held_out] + hostile
    served = run_fresh_python(
        SERVE, str(root / "run/saved_model"), json.dumps(rows), cwd=str(tmp_path)
    )
    predicted = {q.id: a for q, a in zip(held_out, served["answer"])}
    golds = {q.id: [q.answers[0][0]] for q in held_out}
    assert squad_scores(predicted, golds)["f1"] == pytest.approx(results["eval_f1"], abs=1e-9)
    for (_, context), answer, start, end in zip(
        rows, served["answer"], served["start"], served["end"]
    ):
        assert answer == (context[start:end] if start >= 0 else "")
