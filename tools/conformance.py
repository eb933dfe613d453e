"""Conformance: our pipeline vs the original recipe (the TF Model Garden's `create_pretraining_data.py`,
run from its own venv) on the same real corpus, vocab and flags; then each side reads the other's
records. Prints a table and exits non-zero when a tolerance is broken.

    python -m tools.conformance [--corpus_mb=5] [--dupe_factor=5]

Our side runs with --short_target_per_document (the original's rule) for the strict comparison; our
default (short target drawn per chunk) is shown below it as an explained difference.
Tolerances: masked share of non-special tokens within 0.3 points of the original's (the recipe's
round(15% of all tokens, [CLS]/[SEP] included) puts both a little above 15%); 80/10/10 ± 1 point each
side against the nominal value; NSP label share and short (< 64 tokens) share ± 1 point of the
original's (both sides are above 50% NotNext: one-sentence chunks always get a random B);
between the sides: Kolmogorov–Smirnov statistic of sequence lengths and segment-A lengths ≤ 0.05,
tokens per instance ± 2%, instances per document ± 3%, short sequences ± 1 point. Explained
differences (not failures): our random replacements are real wordpieces (the original's can be
[PAD], [CLS], [unused17], …).
Readers: our records through the Model Garden's BertPretrainDataLoader; its records trained on by
`bert_tf.train` for 3 steps.
"""

from __future__ import annotations

import glob
import json
import os
import sys
import tempfile

import tensorflow as tf
from absl import app, flags

from bert_tf.core.vocab import Vocab
from pipelines.inspection import decode
from pipelines.mask_statistics import ks_statistic, mask_statistics
from tools.fetch_sample_data import define_cache_dir_flag, fetch
from tools.reference_venv import REFERENCE_PROGRAMS, model_garden_python, run_checked
from tools.sample_corpus import build_corpus

FLAGS = flags.FLAGS
define_cache_dir_flag()
flags.DEFINE_float("corpus_mb", 5.0, "Size of the real corpus both sides read.")
flags.DEFINE_integer("dupe_factor", 5, "Copies with different masks (both sides).")
flags.DEFINE_string("work_dir", None, "Outputs go here (default: a temporary directory).")

RECIPE = [
    "--max_seq_length=128",
    "--max_predictions_per_seq=20",
    "--masked_lm_prob=0.15",
    "--random_seed=12345",
    "--do_lower_case=true",
    "--short_seq_prob=0.1",
]


def examples_of(pattern: str):
    return (decode(r.numpy()) for r in tf.data.TFRecordDataset(sorted(glob.glob(pattern))))


def count_documents(corpus: str) -> int:
    with open(corpus, encoding="utf-8") as f:
        return sum(1 for block in f.read().split("\n\n") if block.strip())


def rows_for(ours: dict, theirs: dict, docs: int, dupe: int) -> list[tuple]:
    """(metric, ours, theirs, tolerance text, ok) rows."""

    def nominal(name, target, tol):
        return (
            name,
            ours[name],
            theirs[name],
            f"{target} ± {tol}",
            abs(ours[name] - target) <= tol and abs(theirs[name] - target) <= tol,
        )

    def points(name, tol):
        return (
            name,
            ours[name],
            theirs[name],
            f"± {tol} point of the original",
            abs(ours[name] - theirs[name]) <= tol,
        )

    def relative(name, value_ours, value_theirs, tol):
        return (
            name,
            value_ours,
            value_theirs,
            f"± {tol:.0%} of the original",
            abs(value_ours - value_theirs) <= tol * abs(value_theirs),
        )

    def per_doc(stats):  # instances per document and per masked copy
        return stats["instances"] / docs / dupe

    return [
        (
            "masked % of non-special tokens",
            ours["masked_percent"],
            theirs["masked_percent"],
            "± 0.3 points",
            abs(ours["masked_percent"] - theirs["masked_percent"]) <= 0.3,
        ),
        nominal("replaced_by_mask_percent", 80, 1),
        nominal("kept_percent", 10, 1),
        nominal("random_percent", 10, 1),
        # > 50 on both sides: one-sentence chunks always get a random B
        points("nsp_random_percent", 1),
        (
            "KS: sequence length",
            ks_statistic(ours["lengths"], theirs["lengths"]),
            0.0,
            "≤ 0.05",
            ks_statistic(ours["lengths"], theirs["lengths"]) <= 0.05,
        ),
        (
            "KS: segment A length",
            ks_statistic(ours["a_lengths"], theirs["a_lengths"]),
            0.0,
            "≤ 0.05",
            ks_statistic(ours["a_lengths"], theirs["a_lengths"]) <= 0.05,
        ),
        relative(
            "tokens per instance", ours["tokens_per_instance"], theirs["tokens_per_instance"], 0.02
        ),
        relative("instances per document", per_doc(ours), per_doc(theirs), 0.03),
        points("short_percent", 1),
        (
            "random replacement not a wordpiece %",
            ours["random_not_wordpiece_percent"],
            theirs["random_not_wordpiece_percent"],
            "explained: ours draws real wordpieces",
            True,
        ),
    ]


def _cell(value) -> str:
    """A table cell: floats to 3 decimals, anything else as is."""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main(argv):
    del argv
    vocab_file = fetch("vocab", FLAGS.cache_dir)
    vocab = Vocab.from_file(vocab_file)
    corpus = build_corpus(FLAGS.cache_dir, FLAGS.corpus_mb)
    work = FLAGS.work_dir or tempfile.mkdtemp(prefix="conformance_")
    os.makedirs(work, exist_ok=True)
    dupe = f"--dupe_factor={FLAGS.dupe_factor}"
    for name, extra in (("ours", ["--short_target_per_document"]), ("ours_default", [])):
        run_checked(
            [
                sys.executable,
                "-m",
                "pipelines.create_pretraining_data",
                f"--input={corpus}",
                "--input_format=lines",
                f"--output_dir={work}/{name}",
                f"--vocab={vocab_file}",
                "--num_shards=4",
                "--overwrite",
                dupe,
                *RECIPE,
                *extra,
            ]
        )
    python = model_garden_python()
    run_checked(
        [
            python,
            "-m",
            "official.nlp.data.create_pretraining_data",
            f"--input_file={corpus}",
            f"--output_file={work}/theirs.tfrecord",
            f"--vocab_file={vocab_file}",
            dupe,
            *RECIPE,
        ]
    )
    ours, theirs, default = (
        mask_statistics(examples_of(pattern), vocab.mask_id, vocab.non_wordpiece_ids, 128)
        for pattern in (
            f"{work}/ours/train-*",
            f"{work}/theirs.tfrecord",
            f"{work}/ours_default/train-*",
        )
    )
    rows = rows_for(ours, theirs, count_documents(corpus), FLAGS.dupe_factor)
    rows += [
        (
            f"default run (short target per chunk): {name}",
            default[key],
            theirs[key],
            "explained: short_seq_prob is the share of chunks, not of documents",
            True,
        )
        for name, key in (
            ("short %", "short_percent"),
            ("tokens per instance", "tokens_per_instance"),
            ("NSP random %", "nsp_random_percent"),
        )
    ]
    loader_check = os.path.join(REFERENCE_PROGRAMS, "model_garden_loader_check.py")
    loader = run_checked([python, loader_check, f"{work}/ours/train-*"]).strip().splitlines()[-1]
    trained = run_checked(
        [
            sys.executable,
            "-m",
            "bert_tf.train",
            f"--train_files={work}/theirs.tfrecord",
            f"--vocab={vocab_file}",
            f"--model_dir={work}/model_on_theirs",
            "--num_train_steps=3",
            "--train_batch_size=8",
            "--log_every=1",
        ]
    )
    rows.append(
        ("Model Garden loader reads ours", loader, "", "batch shapes", "masked_lm_ids" in loader)
    )
    done = [line for line in trained.splitlines() if line.startswith("done at step")]
    rows.append(
        (
            "bert_tf.train on theirs (3 steps)",
            (done or ["did not finish"])[0][:40],
            "",
            "finishes",
            bool(done),
        )
    )
    print(
        f"\nconformance: {os.path.getsize(corpus) / 1e6:.1f} MB corpus, {count_documents(corpus)} documents, "
        f"L128 P20 dupe {FLAGS.dupe_factor}; ours {ours['instances']} instances, original {theirs['instances']}"
    )
    print("| metric | ours | original (Model Garden) | tolerance | ok |")
    print("|---|---:|---:|---|---|")
    for name, a, b, tolerance, ok in rows:
        print(f"| {name} | {_cell(a)} | {_cell(b)} | {tolerance} | {'yes' if ok else 'NO'} |")
    with open(os.path.join(work, "conformance.json"), "w") as f:
        json.dump([[r[0], str(r[1]), str(r[2]), r[3], bool(r[4])] for r in rows], f, indent=1)
    failed = [row[0] for row in rows if not row[4]]
    if failed:
        sys.exit(f"out of tolerance: {failed}")


if __name__ == "__main__":
    app.run(main)
