"""`bert_tf.finetune --task=span_qa`: fine-tune the encoder to answer questions with a span of a
context (SQuAD v1.1/v2.0 JSON in), report the official exact match and F1 on held-out questions, and
export a SavedModel that takes question and context strings and returns the answer with its
character offsets.

    python -m bert_tf.finetune --task=span_qa --init_checkpoint=runs/minilm --train_file=train.json \\
        --eval_file=dev.json --max_seq_length=384 --doc_stride=128 --output_dir=runs/qa

A training file with unanswerable questions makes it SQuAD 2.0: the answer is "" when the [CLS] score
beats the best span's by more than --null_score_diff_threshold. The held-out scores are computed by
the exported serving function itself, so what is reported is what the SavedModel answers.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from bert_tf.finetuning.classifier import trim_padding
from bert_tf.finetuning.finetune_common import (
    FineTuneConfig,
    adamw,
    encoder_and_vocab,
    export_saved_model,
    fit,
    train_and_held_out,
    write_results,
)
from bert_tf.finetuning.span_answers import squad_scores
from bert_tf.finetuning.span_qa import SpanQaServingModule, build_span_qa
from bert_tf.finetuning.squad_data import first_answer_words, qa_rows, read_squad
from bert_tf.finetuning.tagging_data import split_words
from bert_tf.serving.text_encoding import TextEncoder


def training_rows(cfg: FineTuneConfig, encoder: TextEncoder, questions: list) -> list:
    """Every window of every question (squad_data.qa_rows), tokenized as the SavedModel tokenizes."""
    rows = []
    for start in range(0, len(questions), 256):
        batch = questions[start : start + 256]
        query = encoder.wordpieces(tf.constant([q.question for q in batch])).to_list()
        words = tf.ragged.constant([split_words(q.context) for q in batch], dtype=tf.string)
        pieces = encoder.wordpieces(words).to_list()
        for question, query_pieces, word_pieces in zip(batch, query, pieces):
            rows += qa_rows(
                query_pieces,
                word_pieces,
                first_answer_words(question),
                cfg.max_seq_length,
                cfg.max_query_length,
                cfg.doc_stride,
                encoder.cls_id,
                encoder.sep_id,
            )
    return rows


def qa_dataset(rows: list, max_seq_length: int, batch_size: int, shuffle_seed=None):
    """((inputs, {"start", "end"}) batches, batches per pass); each batch cut after its longest row."""
    ids = np.zeros([len(rows), max_seq_length], np.int32)
    types = np.zeros_like(ids)
    for i, (row_ids, first_context, _, _) in enumerate(rows):
        ids[i, : len(row_ids)] = row_ids
        types[i, first_context : len(row_ids)] = 1
    inputs = {"input_word_ids": ids, "input_mask": (ids != 0).astype(np.int32)}
    inputs["input_type_ids"] = types
    targets = {"start": np.array([r[2] for r in rows]), "end": np.array([r[3] for r in rows])}
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(rows), seed=shuffle_seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size).map(lambda x, y: (trim_padding(x), y))
    return dataset.prefetch(tf.data.AUTOTUNE), -(-len(rows) // batch_size)


def served_answers(module: SpanQaServingModule, questions: list, batch_size: int) -> dict:
    """{question id: the SavedModel's answer text}."""
    answers = {}
    for start in range(0, len(questions), batch_size):
        batch = questions[start : start + batch_size]
        out = module.serve(
            tf.constant([q.question for q in batch]), tf.constant([q.context for q in batch])
        )
        answers.update({q.id: a.decode() for q, a in zip(batch, out["answer"].numpy())})
    return answers


def finetune_span_qa(cfg: FineTuneConfig) -> dict:
    """Trains, exports and evaluates the span QA model; writes saved_model/, results.json,
    finetune_log.jsonl and curves.png in --output_dir."""
    if cfg.epochs < 1:
        raise ValueError(f"--epochs={cfg.epochs}: fine-tune for at least 1 epoch")
    # held out by context: no held-out paragraph is ever trained on
    train, held_out, skipped = train_and_held_out(cfg, read_squad, key=lambda q: q.context)
    version_2 = any(not q.answers for q in train)
    backbone, vocab_file, source = encoder_and_vocab(cfg)
    encoder = TextEncoder(vocab_file, cfg.max_seq_length, cfg.do_lower_case)
    model = build_span_qa(backbone)
    module = SpanQaServingModule(
        model,
        encoder,
        cfg.max_query_length,
        cfg.doc_stride,
        cfg.max_answer_length,
        cfg.null_score_diff_threshold if version_2 else None,
    )
    rows = training_rows(cfg, encoder, train)
    data, steps_per_epoch = qa_dataset(rows, cfg.max_seq_length, cfg.batch_size, cfg.seed)
    validation, _ = qa_dataset(
        training_rows(cfg, encoder, held_out), cfg.max_seq_length, cfg.batch_size
    )
    loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile(
        optimizer=adamw(cfg.learning_rate, cfg.epochs * steps_per_epoch),
        loss={"start": loss, "end": loss},
    )
    fit(cfg, model, data, validation, steps_per_epoch)
    export_saved_model(cfg, module, {"serving_default": module.serve})
    golds = {q.id: [text for text, _ in q.answers] for q in held_out}
    scores = squad_scores(served_answers(module, held_out, cfg.batch_size), golds)
    results = {
        "task": "span_qa",
        "init": source,
        "squad_version": "2.0" if version_2 else "1.1",
        "learning_rate": cfg.learning_rate,
        "max_seq_length": cfg.max_seq_length,
        "max_query_length": cfg.max_query_length,
        "doc_stride": cfg.doc_stride,
        "max_answer_length": cfg.max_answer_length,
        "train_questions": len(train),
        "train_windows": len(rows),
        "eval_questions": len(held_out),
        "eval_fraction": None if cfg.eval_file else cfg.eval_fraction,
        "skipped_questions": skipped,
        "eval_exact_match": scores["exact_match"],
        "eval_f1": scores["f1"],
        "epochs": cfg.epochs,
    }
    return write_results(cfg.output_dir, results)
