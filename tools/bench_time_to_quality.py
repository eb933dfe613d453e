"""Time-to-quality benchmark: held-out MLM accuracy against minutes of training, in one run on one
machine, for our trainer with `--recipe=bert` and `--recipe=budget` and for keras-hub's own
`BertMaskedLM.fit` on its stock `BertBackbone` — same records, vocabulary, model size and held-out
set (records masked at 15%, the same 1,280 sequences for every run, evaluation time not counted).

    python -m tools.bench_time_to_quality                  # ≈ 2 h on 2 cores: 3 × 5-min probes, 3 × 30 min
    python -m tools.bench_time_to_quality --minutes=2 --probe_minutes=0.5 --corpus_mb=1   # a smoke run

keras-hub runs AdamW with warmup + linear decay laid over its budget like ours; its peak rate is the
best of 1e-4 / 3e-4 / 1e-3 after `--probe_minutes` each (all three reported). The report prints how
many minutes each of ours needs to reach keras-hub's accuracy at the end of its `--minutes`. Finished
runs are kept in --work_dir: an interrupted benchmark resumes (our trainer resumes mid-run too).
Corpus: the sample packages' real text (tools/sample_corpus.py), every 20th document held out.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys

from absl import app, flags

from bert_tf.modeling.model_dir import ModelDir, vocab_size_of
from bert_tf.training.curves import draw, read_jsonl
from bert_tf.training.recipes import recipe_values
from tools.fetch_sample_data import define_cache_dir_flag
from tools.keras_hub_reference import fit_masked_lm_for_minutes
from tools.reference_venv import run_checked
from tools.sample_corpus import build_corpus

FLAGS = flags.FLAGS
define_cache_dir_flag()
flags.DEFINE_float("minutes", 30.0, "Training minutes of each full run.")
flags.DEFINE_float("probe_minutes", 5.0, "Minutes of each keras-hub learning-rate probe.")
flags.DEFINE_float("corpus_mb", 14.0, "Megabytes of sample text (all of it: ≈ 14).")
flags.DEFINE_integer("vocab_size", 8192, "WordPiece vocabulary learned from the training text.")
flags.DEFINE_string("bert_config", "tiny", "Model size of every run.")
flags.DEFINE_integer("eval_every", 150, "Steps of 32 sequences between held-out evaluations.")
flags.DEFINE_string("work_dir", "runs/time_to_quality", "Data and runs (kept: a rerun resumes).")
flags.DEFINE_string("report_dir", "reports", "time_to_quality.{md,png,json} go here.")

HELD_OUT_EVERY, EVAL_BATCHES, BATCH = 20, 40, 32
KERAS_HUB_RATES = (1e-4, 3e-4, 1e-3)


@dataclasses.dataclass(frozen=True)
class Settings:
    minutes: float
    probe_minutes: float
    corpus_mb: float
    vocab_size: int
    bert_config: str
    eval_every: int
    work_dir: str
    report_dir: str
    cache_dir: str


def settings_from_flags() -> Settings:
    return Settings(
        FLAGS.minutes, FLAGS.probe_minutes, FLAGS.corpus_mb, FLAGS.vocab_size, FLAGS.bert_config,
        FLAGS.eval_every, FLAGS.work_dir, FLAGS.report_dir, FLAGS.cache_dir,
    )  # fmt: skip


def module(name: str, *args: str) -> str:
    return run_checked([sys.executable, "-m", name, *args])


def prepare_data(settings: Settings) -> dict[str, str]:
    """Train / held-out text split by document, a vocab learned from the training part, and the
    pipeline's default records (128 tokens, 15% masks) of each; made once per work dir."""
    corpus_mb, vocab_size = settings.corpus_mb, settings.vocab_size
    data = os.path.join(settings.work_dir, f"data-{corpus_mb:g}mb-vocab{vocab_size}")
    paths = {"vocab": f"{data}/vocab.txt", "train": f"{data}/train", "held_out": f"{data}/held_out"}
    if os.path.exists(f"{paths['held_out']}/manifest.json"):
        return paths
    os.makedirs(data, exist_ok=True)
    with open(build_corpus(settings.cache_dir, corpus_mb), encoding="utf-8") as f:
        documents = [d for d in f.read().split("\n\n") if d.strip()]
    for name, keep in (
        ("train", lambda i: i % HELD_OUT_EVERY != 10),
        ("held_out", lambda i: i % HELD_OUT_EVERY == 10),
    ):
        with open(f"{data}/{name}.txt", "w", encoding="utf-8") as f:
            f.write("\n\n".join(d for i, d in enumerate(documents) if keep(i)) + "\n")
    module("pipelines.build_vocab", f"--input={data}/train.txt", "--input_format=lines",
           f"--output={paths['vocab']}", f"--vocab_size={vocab_size}")  # fmt: skip
    for name in ("train", "held_out"):
        module("pipelines.create_pretraining_data", f"--input={data}/{name}.txt",
               "--input_format=lines", f"--output_dir={paths[name]}", f"--vocab={paths['vocab']}",
               "--overwrite")  # fmt: skip
    return paths


def train_ours(settings: Settings, paths: dict, recipe: str) -> list[dict]:
    """`bert_tf.train --recipe=RECIPE --train_minutes=M` (resumed if interrupted); its eval log. The
    recipe's own batch size (16 for `budget`: part of the recipe), every run evaluated on the same
    EVAL_BATCHES × BATCH held-out sequences, every `eval_every` × BATCH training sequences."""
    minutes = settings.minutes
    model_dir = os.path.join(settings.work_dir, f"ours_{recipe}_{minutes:g}min")
    batch = recipe_values(recipe, fresh_model=True).get("train_batch_size", BATCH)
    module("bert_tf.train", f"--train_files={paths['train']}", f"--eval_files={paths['held_out']}",
           f"--vocab={paths['vocab']}", f"--bert_config={settings.bert_config}",
           f"--model_dir={model_dir}", f"--recipe={recipe}", f"--train_minutes={minutes}",
           f"--eval_every={settings.eval_every * BATCH // batch}",
           f"--eval_batches={EVAL_BATCHES * BATCH // batch}", f"--train_batch_size={batch}",
           "--checkpoint_every=500", "--seed=1")  # fmt: skip
    return [
        {"minutes": r["training_seconds"] / 60, "mlm_accuracy": r["mlm_accuracy"]}
        for r in read_jsonl(ModelDir(model_dir).eval_log)
    ]


def train_keras_hub(
    settings: Settings, paths: dict, learning_rate: float, minutes: float
) -> list[dict]:
    """keras-hub's BertMaskedLM.fit for `minutes` (a finished run is read back, not rerun)."""
    name = f"keras_hub_lr{learning_rate:g}_{minutes:g}min.json"
    result = os.path.join(settings.work_dir, name)
    if not os.path.exists(result):
        points = fit_masked_lm_for_minutes(
            vocab_size_of(paths["vocab"]), settings.bert_config, f"{paths['train']}/*.tfrecord",
            f"{paths['held_out']}/*.tfrecord", BATCH, learning_rate, minutes, settings.eval_every,
            EVAL_BATCHES,
        )  # fmt: skip
        with open(result + ".tmp", "w") as f:
            json.dump(points, f)
        os.replace(result + ".tmp", result)
    with open(result) as f:
        return json.load(f)


def accuracy_at(points: list[dict], minutes: float) -> float | None:
    """Held-out accuracy of the last evaluation at or before `minutes`.

    >>> accuracy_at([{"minutes": 1.0, "mlm_accuracy": 0.1}, {"minutes": 2.0, "mlm_accuracy": 0.2}], 1.5)
    0.1
    """
    before = [p["mlm_accuracy"] for p in points if p["minutes"] <= minutes + 1e-9]
    return before[-1] if before else None


def minutes_to_reach(points: list[dict], target: float) -> float | None:
    """Training minutes of the first evaluation at or above `target` (None: never).

    >>> minutes_to_reach([{"minutes": 1.0, "mlm_accuracy": 0.1}, {"minutes": 2.0, "mlm_accuracy": 0.2}], 0.15)
    2.0
    """
    return next((p["minutes"] for p in points if p["mlm_accuracy"] >= target), None)


def report(
    settings: Settings, runs: dict[str, list[dict]], probes: dict[float, list[dict]], best: float
) -> list[str]:
    """The Markdown table: accuracy at a few budgets, at the end, and minutes to keras-hub's end."""
    keras_hub = runs[f"keras-hub BertMaskedLM.fit, lr {best:g}"]
    target = keras_hub[-1]["mlm_accuracy"]
    marks = [m for m in (5, 10, 15, 30) if m <= settings.minutes]
    columns = [f"{m} min" for m in marks] + ["end", "minutes to keras-hub's end"]
    lines = [
        f"# Time to quality: {settings.bert_config} BERT, held-out MLM accuracy (15% masks, the first "
        f"{EVAL_BATCHES * BATCH} held-out sequences) against training minutes, one run on this machine",
        "",
        "| run | " + " | ".join(columns) + " |",
        "|---|" + "---:|" * len(columns),
    ]
    for label, points in runs.items():
        cells = [accuracy_at(points, m) for m in marks] + [points[-1]["mlm_accuracy"]]
        reach = minutes_to_reach(points, target)
        lines.append(f"| {label} | " + " | ".join("–" if c is None else f"{c:.3f}" for c in cells)
                     + f" | {'never' if reach is None else f'{reach:.1f}'} |")  # fmt: skip
    lines += ["", f"keras-hub's end ({settings.minutes:g} min): {target:.3f}. Learning-rate probes "
              f"({settings.probe_minutes:g} min each): " + ", ".join(
                  f"{rate:g} → {points[-1]['mlm_accuracy']:.3f}" for rate, points in probes.items())]  # fmt: skip
    return lines


def main(argv):
    del argv
    settings = settings_from_flags()
    paths = prepare_data(settings)
    probes = {
        rate: train_keras_hub(settings, paths, rate, settings.probe_minutes)
        for rate in KERAS_HUB_RATES
    }
    best = max(probes, key=lambda rate: probes[rate][-1]["mlm_accuracy"])
    runs = {
        f"keras-hub BertMaskedLM.fit, lr {best:g}": train_keras_hub(
            settings, paths, best, settings.minutes
        ),
        "bert_tf --recipe=bert": train_ours(settings, paths, "bert"),
        "bert_tf --recipe=budget": train_ours(settings, paths, "budget"),
    }
    write_report(settings, runs, report(settings, runs, probes, best), probes)


def write_report(settings: Settings, runs: dict, lines: list[str], probes: dict) -> None:
    """time_to_quality.{png,md,json} in the report dir, and the table on the console."""
    os.makedirs(settings.report_dir, exist_ok=True)
    curves = {label: ([p["minutes"] for p in points], [p["mlm_accuracy"] for p in points])
              for label, points in runs.items()}  # fmt: skip
    draw(os.path.join(settings.report_dir, "time_to_quality.png"),
         [("held-out MLM accuracy", curves)], f"{settings.bert_config} BERT: time to quality",
         "training minutes")  # fmt: skip
    with open(os.path.join(settings.report_dir, "time_to_quality.md"), "w") as f:
        f.write("\n".join(lines + ["", "![time to quality](time_to_quality.png)", ""]))
    with open(os.path.join(settings.report_dir, "time_to_quality.json"), "w") as f:
        json.dump({"runs": runs, "probes": {str(k): v for k, v in probes.items()}}, f, indent=1)
    print("\n".join(lines))


if __name__ == "__main__":
    app.run(main)
