"""Prints the short report of a demo run: records written, losses at start and end, where things are.

    python -m tools.report_run --run_dir=runs/demo

Reads RUN/data/stats.json, RUN/model/train_log.jsonl, RUN/timings.tsv and loads RUN/saved_model in
this process the way a server would (tensorflow + tensorflow_text only) and calls every signature once;
with --reviews, also serves held-out reviews through the fine-tuned classifier in RUN/sentiment.
"""

from __future__ import annotations

import json
import os

from absl import flags

from bert_tf.core import cli
from bert_tf.modeling.model_dir import ModelDir

FLAGS = flags.FLAGS
flags.DEFINE_string("run_dir", "runs/demo", "The demo's run directory.")
flags.DEFINE_string(
    "reviews",
    None,
    "The labelled reviews RUN/sentiment was fine-tuned on (shows served predictions).",
)


def piece_count(vocab_file: str, text: str) -> int:
    """How many wordpieces `text` is in this vocabulary (the same tokenizer the SavedModel holds)."""
    from bert_tf.core.vocab import read_tokens
    from pipelines.tokenization import WordpieceTokenizer

    return len(WordpieceTokenizer(read_tokens(vocab_file)).tokenize([text])[0])


def serve_once(saved_model: str, vocab_file: str) -> list[tuple[str, str]]:
    """Report rows from calling every signature of the SavedModel once."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401  (registers the tokenizer ops the SavedModel uses)

    signatures = tf.saved_model.load(saved_model).signatures
    before_bank = ("The river", "She opened a")  # "bank" is the next word: at 1 + pieces before it
    out = signatures["serving_default"](
        text=tf.constant(
            [f"{before_bank[0]} bank was flooded.", f"{before_bank[1]} bank account."]
        ),
        text_b=tf.constant([], tf.string),
    )
    bank = tf.math.l2_normalize(
        tf.stack(
            [
                out["sequence_output"][i, 1 + piece_count(vocab_file, b)]
                for i, b in enumerate(before_bank)
            ]
        ),
        axis=-1,
    )
    cosine = float(tf.reduce_sum(bank[0] * bank[1]))
    rows = [
        ("SavedModel", f"{saved_model}: signatures {', '.join(sorted(signatures))}"),
        (
            "contextual 'bank'",
            f"cosine of 'bank' in 'river bank' vs 'bank account' = {cosine:.3f} (< 1)",
        ),
    ]
    for text in (
        "The river flows into the [MASK].",
        "Alabama is a state in the southeastern [MASK] of the United States.",
        "He was born in [MASK] in 1950.",
    ):
        fill = signatures["fill_mask"](text=tf.constant([text]))
        guesses = ", ".join(
            f"{t.decode()} {p:.2f}"
            for t, p in zip(
                fill["top_tokens"].numpy()[0, 0], fill["top_probabilities"].numpy()[0, 0]
            )
        )
        rows.append((f"fill_mask {text!r}", guesses))
    if "next_sentence" in signatures:
        a, b = (
            "The river bank was flooded.",
            ["The water rose after the storm.", "He was born in 1950."],
        )
        p = signatures["next_sentence"](text_a=tf.constant([a, a]), text_b=tf.constant(b))[
            "is_next_probability"
        ]
        rows.append(
            ("next_sentence P(IsNext)", f"{p[0]:.2f} for {b[0]!r}, {p[1]:.2f} for {b[1]!r}")
        )
    return rows


def classify_reviews(run: str, reviews_file: str, count: int = 6) -> list[tuple[str, str]]:
    """Report rows: the fine-tuned classifier's held-out accuracy, and its SavedModel serving raw held-out
    reviews (the first `count` of the split bert_tf.finetune held out) with predicted and true labels."""
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    from bert_tf.finetuning.classifier import read_labelled_rows, split_held_out

    with open(os.path.join(run, "sentiment", "results.json")) as f:
        results = json.load(f)
    rows, _ = read_labelled_rows(reviews_file, "text", "category", labels=tuple(results["labels"]))
    held_out = split_held_out(rows, results["eval_fraction"])[1][:count]
    serve = tf.saved_model.load(os.path.join(run, "sentiment", "saved_model")).signatures[
        "serving_default"
    ]
    out = serve(text=tf.constant([r.text for r in held_out]), text_b=tf.constant([], tf.string))
    report = [
        (
            "fine-tuned classifier",
            f"held-out accuracy {results['eval_accuracy']:.3f} on {results['eval_examples']} "
            f"reviews after {results['train_examples']} training rows (majority class "
            f"{results['majority_class_accuracy']:.3f}); init {results['init']}",
        ),
        ("fine-tuning curves", f"{run}/sentiment/curves.png"),
    ]
    for row, label, probabilities in zip(
        held_out, out["label"].numpy(), out["probabilities"].numpy()
    ):
        text = row.text if len(row.text) <= 70 else row.text[:67] + "..."
        report.append((f"  {label.decode()} {probabilities.max():.2f} (true: {row.label})", text))
    return report


def describe_losses(entry: dict) -> str:
    """'4.42 (mlm 4.42 acc 0.254)' from a train_log.jsonl entry, with NSP's when the run had NSP.

    >>> describe_losses({"loss": 4.5, "mlm_loss": 4.0, "mlm_accuracy": 0.25, "nsp_loss": 0.5})
    '4.500 (mlm 4.000 acc 0.250, nsp 0.500)'
    """
    parts = [f"mlm {entry['mlm_loss']:.3f} acc {entry['mlm_accuracy']:.3f}"]
    if "nsp_loss" in entry:
        parts.append(f"nsp {entry['nsp_loss']:.3f}" + (
            f" acc {entry['nsp_accuracy']:.3f}" if "nsp_accuracy" in entry else ""))  # fmt: skip
    return f"{entry['loss']:.3f} ({', '.join(parts)})"


def main(argv):
    del argv
    run = FLAGS.run_dir
    with open(os.path.join(run, "data", "stats.json")) as f:
        stats = json.load(f)
    model_dir = ModelDir(os.path.join(run, "model"))
    with open(model_dir.train_log) as f:
        log = [json.loads(line) for line in f]
    timings = {}
    if os.path.exists(os.path.join(run, "timings.tsv")):
        with open(os.path.join(run, "timings.tsv")) as f:
            timings = dict(line.rstrip("\n").split("\t") for line in f)
    first, last = log[0], log[-1]
    rows = [
        ("documents read / used", f"{stats['documents_read']} / {stats['documents_used']}"),
        ("inputs skipped", ", ".join(f"{k} {v}" for k, v in stats["skipped"].items()) or "none"),
        ("instances (TFRecords)", f"{stats['instances']} in {run}/data (stats.json beside them)"),
        (
            "NSP labels",
            f"is_next {stats['nsp_labels']['is_next']}, is_random {stats['nsp_labels']['is_random']}",
        ),
        (f"loss at step {first['step']}", describe_losses(first)),
        (f"loss at step {last['step']}", describe_losses(last)),
        ("training curves", f"{model_dir.curves} (loss, MLM/NSP accuracy, learning rate)"),
        ("TensorBoard", f"tensorboard --logdir={model_dir.path}"),
        ("checkpoints", model_dir.checkpoints),
    ] + serve_once(os.path.join(run, "saved_model"), model_dir.vocab_file)
    if FLAGS.reviews and os.path.exists(os.path.join(run, "sentiment", "results.json")):
        rows += classify_reviews(run, FLAGS.reviews)
    rows += [(f"time: {name}", f"{seconds} s") for name, seconds in timings.items()]
    width = max(len(name) for name, _ in rows)
    print("\n== bert_tf demo report")
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    cli.run(main)
