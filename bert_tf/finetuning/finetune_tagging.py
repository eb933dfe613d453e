"""`bert_tf.finetune --task=tagging`: fine-tune the encoder to tag every word, report entity-level F1
(conlleval's rules) and token accuracy on held-out sentences, and export a SavedModel that tags raw
text or pre-split words.

    python -m bert_tf.finetune --task=tagging --init_checkpoint=runs/minilm \\
        --train_file=case/train.conll --eval_file=case/eval.conll --output_dir=runs/case

The held-out scores are computed by the exported serving function itself (`tag_words` on the
held-out words), so what is reported is what the SavedModel answers.
"""

from __future__ import annotations

import collections

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
from bert_tf.finetuning.tagger import TaggerServingModule, build_tagger, tagging_loss
from bert_tf.finetuning.tagging_data import IGNORE, read_tagged_sentences, sentence_rows
from bert_tf.finetuning.tagging_metrics import entity_scores
from bert_tf.serving.text_encoding import TextEncoder


def tag_names_of(labels, train: list, held_out: list) -> list[str]:
    """--labels, else every training tag sorted; ValueError on a held-out tag never trained."""
    names = list(labels) if labels else sorted({t for _, tags in train for t in tags})
    unknown = sorted({t for _, tags in train + held_out for t in tags} - set(names))
    if unknown:
        raise ValueError(
            f"tags {unknown[:10]} are not among the {len(names)} tags trained ({names[:10]}): "
            "pass them in --labels or train on sentences that hold them"
        )
    return names


def pieces_per_word(encoder: TextEncoder, sentences: list) -> list[list[list[int]]]:
    """Each sentence's words as wordpiece ids, by the tokenizer the SavedModel serves with."""
    pieces = []
    for start in range(0, len(sentences), 1024):
        words = tf.ragged.constant([words for words, _ in sentences[start : start + 1024]])
        pieces += encoder.wordpieces(words).to_list()
    return pieces


def tagging_dataset(rows: list, max_seq_length: int, batch_size: int, shuffle_seed=None):
    """((inputs, labels, weights) batches, batches per pass) from sentence_rows' (ids, labels): a
    piece without a tag gets label 0 and weight 0; each batch is cut after its longest row."""
    ids = np.zeros([len(rows), max_seq_length], np.int32)
    labels = np.zeros_like(ids)
    weights = np.zeros([len(rows), max_seq_length], np.float32)
    for i, (row_ids, row_labels) in enumerate(rows):
        ids[i, : len(row_ids)] = row_ids
        tagged = np.array(row_labels) != IGNORE
        labels[i, : len(row_ids)] = np.where(tagged, row_labels, 0)
        weights[i, : len(row_ids)] = tagged
    inputs = {"input_word_ids": ids, "input_mask": (ids != 0).astype(np.int32)}
    inputs["input_type_ids"] = np.zeros_like(ids)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, labels, weights))
    if shuffle_seed is not None:
        dataset = dataset.shuffle(len(rows), seed=shuffle_seed, reshuffle_each_iteration=True)

    def trim(x, y, w):
        x = trim_padding(x)
        length = tf.shape(x["input_word_ids"])[1]
        return x, y[:, :length], w[:, :length]

    dataset = dataset.batch(batch_size).map(trim).prefetch(tf.data.AUTOTUNE)
    return dataset, -(-len(rows) // batch_size)


def served_tags(module: TaggerServingModule, sentences: list, batch_size: int) -> list:
    """The SavedModel's tags for each held-out sentence (its `tag_words` signature)."""
    predicted = []
    for start in range(0, len(sentences), batch_size):
        words = tf.ragged.constant([w for w, _ in sentences[start : start + batch_size]])
        out = module.tag_words(words.to_tensor(""))
        for row, count in zip(out["tags"].numpy(), out["word_count"].numpy()):
            predicted.append([tag.decode() for tag in row[:count]])
    return predicted


def encode_rows(cfg, encoder, sentences, tag_index) -> list:
    """Every training window of every sentence (sentence_rows), as (ids, labels)."""
    rows = []
    for word_pieces, (_, tags) in zip(pieces_per_word(encoder, sentences), sentences):
        rows += sentence_rows(
            word_pieces,
            [tag_index[t] for t in tags],
            cfg.max_seq_length,
            cfg.doc_stride,
            encoder.cls_id,
            encoder.sep_id,
        )
    return rows


def finetune_tagging(cfg: FineTuneConfig) -> dict:
    """Trains, exports and evaluates the tagger; writes saved_model/, results.json,
    finetune_log.jsonl and curves.png in --output_dir."""
    if cfg.epochs < 1:
        raise ValueError(f"--epochs={cfg.epochs}: fine-tune for at least 1 epoch")
    train, held_out, skipped = train_and_held_out(
        cfg,
        lambda path: read_tagged_sentences(path, cfg.text_column, cfg.label_column),
        key=lambda sentence: " ".join(sentence[0]),  # a sentence is held out by its words
    )
    tag_names = tag_names_of(cfg.labels, train, held_out)
    tag_index = {name: i for i, name in enumerate(tag_names)}
    default_tag = collections.Counter(t for _, tags in train for t in tags).most_common(1)[0][0]
    backbone, vocab_file, source = encoder_and_vocab(cfg)
    encoder = TextEncoder(vocab_file, cfg.max_seq_length, cfg.do_lower_case)
    train_rows = encode_rows(cfg, encoder, train, tag_index)
    data, steps_per_epoch = tagging_dataset(
        train_rows, cfg.max_seq_length, cfg.batch_size, cfg.seed
    )
    validation, _ = tagging_dataset(
        encode_rows(cfg, encoder, held_out, tag_index), cfg.max_seq_length, cfg.batch_size
    )
    tagger = build_tagger(backbone, len(tag_names), cfg.dropout)
    tagger.compile(
        optimizer=adamw(cfg.learning_rate, cfg.epochs * steps_per_epoch),
        loss=tagging_loss(),
        weighted_metrics=["accuracy"],
    )
    history = fit(cfg, tagger, data, validation, steps_per_epoch)
    module = TaggerServingModule(tagger, encoder, tag_names, cfg.doc_stride, default_tag)
    signatures = {"serving_default": module.serve, "tag_words": module.tag_words}
    export_saved_model(cfg, module, signatures)
    gold = [tags for _, tags in held_out]
    scores = entity_scores(gold, served_tags(module, held_out, cfg.batch_size))
    baseline = entity_scores(gold, [[default_tag] * len(tags) for tags in gold])
    results = {
        "task": "tagging",
        "init": source,
        "learning_rate": cfg.learning_rate,
        "max_seq_length": cfg.max_seq_length,
        "doc_stride": module.stride,
        "tags": tag_names,
        "default_tag": default_tag,
        "train_sentences": len(train),
        "train_windows": len(train_rows),
        "eval_sentences": len(held_out),
        "eval_fraction": None if cfg.eval_file else cfg.eval_fraction,
        "skipped_rows": skipped,
        **{f"eval_entity_{name}": scores[name] for name in ("precision", "recall", "f1")},
        "eval_token_accuracy": scores["token_accuracy"],
        "default_tag_accuracy": baseline["token_accuracy"],
        "epochs": cfg.epochs,
        "val_accuracy_per_epoch": history.history["val_accuracy"],
    }
    return write_results(cfg.output_dir, results)
