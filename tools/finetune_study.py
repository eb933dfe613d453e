"""Does pre-training pay? One fine-tuning recipe, one split, several starting encoders, several seeds:
Rotten Tomatoes fresh vs rotten at 1,000 training rows and at all rows, plus a sentence-pair task
(does KJV verse B follow verse A, held out by chapter). Writes REPORT_DIR/finetune_study.{md,json}.

    python -m tools.finetune_study                       # ≈ 3 h on 2 cores (all rows: ≈ 17 min a run)
    python -m tools.finetune_study --small_rows=200 --full=false --seeds=1 --pretrain_steps=20   # smoke
    python -m tools.finetune_study --full_seeds=1,2,3 --probe_epochs=1   # every run LP-FT

Encoders (every one fine-tuned by `bert_tf.finetune` with the same flags, served by its SavedModel):
- random init, tiny (L2/H128) and MiniLM-sized (L6/H384), bert-base-uncased vocab;
- tiny pre-trained here (MLM + NSP) on the wiki + KJV samples, 64-token sequences;
- all-MiniLM-L6-v2 imported from its Hugging Face checkpoint (bert_tf/import_hf_checkpoint);
- the same + continued MLM pre-training (`bert_tf.train --init_checkpoint`) on the task's own training
  texts (held-out rows never included; bert_tf/tasks/labelled_text_to_lines).
Each finished run keeps its results.json in --work_dir, so an interrupted study resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import sys
import time

from absl import app, flags

from tools.fetch_sample_data import define_cache_dir_flag, fetch_all
from tools.reference_venv import run_checked

FLAGS = flags.FLAGS
define_cache_dir_flag()
flags.DEFINE_list(
    "seeds", ["1", "2", "3"], "Fine-tuning seeds at --small_rows (spread matters there)."
)
flags.DEFINE_list("full_seeds", ["1"], "Fine-tuning seeds with all training rows.")
flags.DEFINE_integer("small_rows", 1000, "Training rows of the low-data column.")
flags.DEFINE_bool("full", True, "Also fine-tune on all training rows.")
flags.DEFINE_list(
    "full_encoders",
    ["minilm", "minilm_mlm", "random_tiny", "tiny", "random_minilm"],
    "Encoders fine-tuned on all rows, in this order (keys: random_tiny, random_minilm, tiny, "
    "minilm, minilm_mlm).",
)
flags.DEFINE_integer(
    "pretrain_steps", 2000, "Steps of the tiny model's pre-training on the samples."
)
flags.DEFINE_integer(
    "continued_steps", 400, "Steps of continued MLM pre-training of MiniLM on the task texts."
)
flags.DEFINE_integer(
    "probe_epochs",
    0,
    "Passed to every fine-tuning run: epochs of the classifier layer alone on the frozen encoder "
    "first (LP-FT; 0: off, as BERT's recipe).",
)
flags.DEFINE_string("work_dir", "runs/finetune_study", "Models, records and per-run results.")
flags.DEFINE_string("report_dir", "reports", "finetune_study.md and .json go here.")

SEQ = 64  # pre-training sequences: the snippets average ≈ 30 wordpieces
RECIPE = ["--batch_size=32", "--pooling=mean", "--eval_fraction=0.1"]
# Per column, the same for every encoder. 1,000 rows: 3 passes at 1e-4. All rows: 3 passes at the BERT
# paper's 5e-5, seq 128 (every review whole: the longest has 76 pieces; batches are length-bucketed, so
# the limit costs nothing). WORKSPACE_NOTES.md has the recipe search behind both.
COLUMN_RECIPE = {
    "small": ["--max_seq_length=64", "--epochs=3", "--learning_rate=1e-4"],
    "full": ["--max_seq_length=128", "--epochs=3", "--learning_rate=5e-5"],
}
TASK = ["--text_column=text", "--label_column=category", "--labels=fresh,rotten"]


def module(name: str, *args: str) -> str:
    return run_checked([sys.executable, "-m", name, *args])


def pretrain_tiny(work: str, samples: dict, steps: int) -> str:
    """Tiny BERT pre-trained (MLM + NSP) on the wiki + KJV samples with the sample vocab; its model dir."""
    model_dir = f"{work}/tiny_pretrained"
    if not os.path.exists(f"{model_dir}/checkpoints/checkpoint"):  # written at the last step only
        records = f"{work}/tiny_records"
        if not os.path.exists(f"{records}/stats.json"):
            module(
                "pipelines.create_pretraining_data",
                f"--input={samples['wiki']},{samples['kjv_lines']}",
                f"--vocab={samples['vocab']}",
                f"--output_dir={records}",
                f"--max_seq_length={SEQ}",
                "--max_predictions_per_seq=10",
                "--dupe_factor=3",
                "--num_shards=4",
                "--overwrite",
            )
        module(
            "bert_tf.train",
            f"--train_files={records}/train-*.tfrecord",
            f"--vocab={samples['vocab']}",
            "--bert_config=tiny",
            f"--model_dir={model_dir}",
            "--train_batch_size=64",
            f"--max_seq_length={SEQ}",
            "--max_predictions_per_seq=10",
            f"--num_train_steps={steps}",
            f"--num_warmup_steps={steps // 10}",
            "--learning_rate=1e-3",
            "--seed=1",
            f"--checkpoint_every={steps}",
            f"--log_every={max(1, steps // 20)}",
        )
    return model_dir


def import_minilm(work: str, samples: dict) -> str:
    model_dir = f"{work}/minilm"
    if not os.path.exists(f"{model_dir}/checkpoints/checkpoint"):
        module(
            "bert_tf.import_hf_checkpoint",
            f"--hf_dir={samples['minilm']}",
            f"--output_dir={model_dir}",
        )
    return model_dir


def continue_pretraining(work: str, samples: dict, minilm: str, steps: int) -> str:
    """MiniLM + MLM-only pre-training on the training rows' texts (fresh MLM head; held-out rows left out)."""
    model_dir = f"{work}/minilm_continued_{steps}"  # cached per step count
    if not os.path.exists(f"{model_dir}/checkpoints/checkpoint"):  # written at the last step only
        lines, records = f"{work}/task_texts.txt", f"{work}/task_records"
        module(
            "bert_tf.tasks.labelled_text_to_lines",
            f"--input={samples['rotten_tomatoes']}",
            "--text_column=text",
            "--label_column=category",
            "--eval_fraction=0.1",
            f"--output={lines}",
        )
        if not os.path.exists(f"{records}/stats.json"):
            module(
                "pipelines.create_pretraining_data",
                f"--input={lines}",
                "--input_format=lines",
                f"--vocab={minilm}/vocab.txt",
                f"--output_dir={records}",
                f"--max_seq_length={SEQ}",
                "--max_predictions_per_seq=10",
                "--dupe_factor=5",
                "--no_nsp",
                "--num_shards=4",
                "--overwrite",
            )
        module(
            "bert_tf.train",
            f"--train_files={records}/train-*.tfrecord",
            f"--init_checkpoint={minilm}",
            f"--model_dir={model_dir}",
            "--no_nsp",
            "--train_batch_size=32",
            f"--max_seq_length={SEQ}",
            "--max_predictions_per_seq=10",
            f"--num_train_steps={steps}",
            f"--num_warmup_steps={steps // 10}",
            "--learning_rate=1e-4",
            "--seed=1",
            f"--checkpoint_every={steps}",
            f"--log_every={max(1, steps // 20)}",
        )
    return model_dir


def finetune(
    work: str,
    run: str,
    data_flags: list[str],
    init_flags: list[str],
    recipe: list[str],
    seed: str,
    rows: int | None,
) -> dict:
    """One `bert_tf.finetune` run (cached by name and recipe); its results.json plus minutes."""
    output = f"{work}/runs/{run}_{hashlib.sha1(' '.join(recipe).encode()).hexdigest()[:8]}"
    results_file = f"{output}/results.json"
    if not os.path.exists(results_file):
        start = time.time()
        limit = [f"--max_train_examples={rows}"] if rows else []
        module(
            "bert_tf.finetune",
            *data_flags,
            *init_flags,
            *recipe,
            *limit,
            f"--seed={seed}",
            f"--output_dir={output}",
        )
        with open(results_file) as f:
            results = json.load(f)
        results["minutes"] = (time.time() - start) / 60
        with open(results_file, "w") as f:
            json.dump(results, f, indent=2)
    with open(results_file) as f:
        return json.load(f)


def shared_recipe(probe_epochs: int) -> list[str]:
    """The `bert_tf.finetune` flags of every run, before the column's; `probe_epochs` > 0 adds LP-FT.

    >>> shared_recipe(1)
    ['--batch_size=32', '--pooling=mean', '--eval_fraction=0.1', '--probe_epochs=1']
    >>> shared_recipe(0) == RECIPE  # without LP-FT the flags, and so the cached runs, are unchanged
    True
    """
    return [*RECIPE, f"--probe_epochs={probe_epochs}"] if probe_epochs else RECIPE


def summary(values: list[float]) -> str:
    """mean ± half the range (n = count), e.g. '0.812 ± 0.006 (n=3)'."""
    if len(values) == 1:
        return f"{values[0]:.3f} (n=1)"
    return (
        f"{statistics.mean(values):.3f} ± {(max(values) - min(values)) / 2:.3f} (n={len(values)})"
    )


def mean_minutes(results: list[dict]) -> str:
    """Mean minutes of the runs that were timed (a run whose timing was lost when the study was stopped
    between its results and its timing has none)."""
    timed = [r["minutes"] for r in results if "minutes" in r]
    return f"{statistics.mean(timed):.1f}" if timed else "–"


def write_report(report_dir: str, small_rows: int, table: dict, pairs: dict, header: dict) -> None:
    os.makedirs(report_dir, exist_ok=True)
    columns = [c for c in ("small", "full") if any(c in cells for cells in table.values())]
    names = {
        "small": f"{small_rows:,} rows (`{' '.join(COLUMN_RECIPE['small'])}`)",
        "full": f"all rows (`{' '.join(COLUMN_RECIPE['full'])}`)",
    }
    lines = [
        "# Fine-tuning study: does pre-training pay?",
        "",
        f"Command: `python -m tools.finetune_study` ({header['minutes']:.0f} min on this machine). "
        f"Rotten Tomatoes fresh vs rotten: {header['train_rows']:,} training rows, {header['eval_rows']:,} held out "
        f"(stable-hash split, majority class {header['majority']:.3f}). Recipe for every row: "
        f"`{header['recipe']}` plus the flags of the column; held-out accuracy of the final "
        "model (its SavedModel serves the same predictions), mean ± half the range over seeds.",
        "",
        "| encoder | " + " | ".join(names[c] for c in columns) + " | minutes per run |",
        "|---|" + "---:|" * (len(columns) + 1),
    ]
    for encoder, cells in table.items():
        accuracies = [
            summary([r["eval_accuracy"] for r in cells[c]]) if c in cells else "–" for c in columns
        ]
        minutes = " / ".join(mean_minutes(cells[c]) for c in columns if c in cells)
        lines.append(f"| {encoder} | " + " | ".join(accuracies) + f" | {minutes} |")
    lines += [
        "",
        "Sentence pairs: does KJV verse B follow verse A (`--text_b_column`; every 10th chapter held out; "
        "negatives from other chapters of the same split; majority 0.5):",
        "",
        "| encoder | held-out accuracy | minutes |",
        "|---|---:|---:|",
    ]
    lines += [
        f"| {name} | {r['eval_accuracy']:.3f} | {mean_minutes([r])} |" for name, r in pairs.items()
    ]
    with open(os.path.join(report_dir, "finetune_study.md"), "w") as f:
        f.write("\n".join(lines) + "\n")
    with open(os.path.join(report_dir, "finetune_study.json"), "w") as f:
        json.dump({"header": header, "rotten_tomatoes": table, "pairs": pairs}, f, indent=1)


def main(argv):
    del argv
    start = time.time()
    work = FLAGS.work_dir
    samples = fetch_all(FLAGS.cache_dir)
    minilm = import_minilm(work, samples)
    random_vocab = [f"--vocab={samples['vocab']}"]
    # key: (row name, fine-tuning flags that choose the encoder); the run names use the keys.
    encoders = {
        "random_tiny": ("random init, tiny (L2/H128)", ["--bert_config=tiny", *random_vocab]),
        "random_minilm": (
            "random init, MiniLM size (L6/H384)",
            [f"--bert_config={minilm}/bert_config.json", *random_vocab],
        ),
        "tiny": (
            "tiny pre-trained here (wiki + KJV samples)",
            [f"--init_checkpoint={pretrain_tiny(work, samples, FLAGS.pretrain_steps)}"],
        ),
        "minilm": ("all-MiniLM-L6-v2 imported", [f"--init_checkpoint={minilm}"]),
        "minilm_mlm": (
            f"all-MiniLM-L6-v2 + {FLAGS.continued_steps} steps of MLM on the task texts",
            [
                f"--init_checkpoint={continue_pretraining(work, samples, minilm, FLAGS.continued_steps)}"
            ],
        ),
    }
    shared = shared_recipe(FLAGS.probe_epochs)
    recipes = {column: [*shared, *column_flags] for column, column_flags in COLUMN_RECIPE.items()}
    data = [f"--train_file={samples['rotten_tomatoes']}", *TASK]
    table = {name: {} for name, _ in encoders.values()}
    columns = [("small", FLAGS.seeds, FLAGS.small_rows, list(encoders))]
    if FLAGS.full:
        columns.append(("full", FLAGS.full_seeds, None, FLAGS.full_encoders))
    for (
        column,
        seeds,
        rows,
        keys,
    ) in columns:  # the cheap column first: every encoder has it before any full run
        for key in keys:
            name, init = encoders[key]
            results = [
                finetune(work, f"{key}_{column}_s{seed}", data, init, recipes[column], seed, rows)
                for seed in seeds
            ]
            table[name][column] = results
            print(f"{name}, {column}: {summary([r['eval_accuracy'] for r in results])}", flush=True)
    module(
        "bert_tf.tasks.make_pair_task",
        f"--input={samples['kjv_lines']}",
        f"--output_dir={work}/kjv_pairs",
    )
    pair_data = [
        f"--train_file={work}/kjv_pairs/train.csv",
        f"--eval_file={work}/kjv_pairs/eval.csv",
        "--text_column=text",
        "--text_b_column=text_b",
        "--label_column=label",
        "--labels=next,random",
    ]
    pair_rows = None if FLAGS.full else FLAGS.small_rows
    pairs = {
        encoders[key][0]: finetune(
            work, f"pairs_{key}", pair_data, encoders[key][1], recipes["full"], "1", pair_rows
        )
        for key in ("random_tiny", "minilm")
    }
    first = table[encoders["minilm"][0]]["small"][0]
    header = {
        "minutes": (time.time() - start) / 60,
        "train_rows": first["train_examples_available"],
        "eval_rows": first["eval_examples"],
        "majority": first["majority_class_accuracy"],
        "recipe": " ".join(shared),
    }
    write_report(FLAGS.report_dir, FLAGS.small_rows, table, pairs, header)
    print(open(os.path.join(FLAGS.report_dir, "finetune_study.md")).read())


if __name__ == "__main__":
    app.run(main)
