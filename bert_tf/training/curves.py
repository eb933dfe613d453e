"""A picture of every run, drawn from the run's own logs (never by re-running anything):

- `plot_pretraining(model_dir)` → MODEL_DIR/curves.png: loss, MLM accuracy, NSP accuracy (train and,
  with --eval_files, eval) and the learning rate over steps, from train_log.jsonl and
  eval_log.jsonl. bert_tf.train redraws it at every checkpoint and at the end.
- `plot_finetuning(output_dir)` → OUTPUT_DIR/curves.png: training loss and accuracy, and held-out
  accuracy per epoch, from finetune_log.jsonl (written by bert_tf.finetune).

A resumed run appends to its logs, so a step logged twice (after the last checkpoint, before a kill)
is drawn once, with its latest value. The PNG is written beside and renamed into place.

Example:
    >>> import tempfile
    >>> run = tempfile.mkdtemp()
    >>> with open(f"{run}/train_log.jsonl", "w") as f:
    ...     _ = f.write('{"step": 1, "loss": 11.0, "mlm_accuracy": 0.0, "learning_rate": 1e-4}\\n'
    ...                 '{"step": 50, "loss": 8.9, "mlm_accuracy": 0.06, "learning_rate": 0.0}\\n')
    >>> plot_pretraining(run) == f"{run}/curves.png", open(f"{run}/curves.png", "rb").read(4) == b"\\x89PNG"
    (True, True)
"""

from __future__ import annotations

import io
import json
import os

from bert_tf.core import storage
from bert_tf.modeling.model_dir import ModelDir

CURVES = ModelDir.CURVES  # a fine-tuning run's picture has the model directory's name
PRETRAINING_PANELS = (
    ("loss", "loss (MLM + NSP)"),
    ("mlm_accuracy", "MLM accuracy"),
    ("nsp_accuracy", "NSP accuracy"),
    ("learning_rate", "learning rate"),
)
FINETUNING_LOG = "finetune_log.jsonl"


def read_jsonl(path: str) -> list[dict]:
    """The records of a JSON-lines log ([] if absent); a line cut off by a kill is ignored."""
    if not storage.exists(path):
        return []
    records = []
    with storage.open_file(path) as f:
        for line in f:
            try:
                records.append(json.loads(line))
            except ValueError:
                continue
    return records


def _by_step(records: list[dict], x: str = "step") -> list[dict]:
    """One record per step (the last logged), in step order."""
    return sorted(
        {record[x]: record for record in records if x in record}.values(), key=lambda r: r[x]
    )


def _series(records: list[dict], metric: str, x: str = "step") -> tuple[list, list]:
    kept = [r for r in records if metric in r]
    return [r[x] for r in kept], [r[metric] for r in kept]


def draw(
    path: str, panels: list[tuple[str, dict[str, tuple[list, list]]]], title: str, xlabel: str
) -> str:
    """One row of panels (title → {legend label: (xs, ys)}) as a PNG at `path`, published whole."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(panels), figsize=(4 * len(panels), 3.2), squeeze=False)
    for ax, (panel_title, curves) in zip(axes[0], panels):
        for label, (xs, ys) in curves.items():
            ax.plot(xs, ys, marker="o" if len(xs) < 12 else None, markersize=3, label=label)
        ax.set(title=panel_title, xlabel=xlabel)
        ax.grid(alpha=0.3)
        if len(curves) > 1:
            ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    png = io.BytesIO()
    fig.savefig(png, format="png", dpi=90)
    plt.close(fig)
    with storage.written_whole(path, "wb") as f:
        f.write(png.getvalue())
    return path


def plot_pretraining(model_dir: str) -> str | None:
    """MODEL_DIR/curves.png from its train and eval logs; None if nothing was logged yet."""
    train = _by_step(read_jsonl(ModelDir(model_dir).train_log))
    evaluation = _by_step(read_jsonl(ModelDir(model_dir).eval_log))
    if not train:
        return None
    panels = []
    for metric, panel_title in PRETRAINING_PANELS:
        curves = {
            name: _series(records, metric)
            for name, records in (("train", train), ("eval", evaluation))
        }
        curves = {name: xy for name, xy in curves.items() if xy[0]}
        if curves:
            panels.append((panel_title, curves))
    return draw(ModelDir(model_dir).curves, panels, f"pre-training: {model_dir}", "step")


def plot_finetuning(output_dir: str) -> str | None:
    """OUTPUT_DIR/curves.png from finetune_log.jsonl: training and held-out loss, and accuracy when
    the task has one."""
    records = read_jsonl(os.path.join(output_dir, FINETUNING_LOG))
    batches = [r for r in records if "batch_loss" in r]
    epochs = [r for r in records if "val_loss" in r]
    if not batches and not epochs:
        return None
    losses = {
        "train": _series(batches, "batch_loss", "epoch_progress"),
        "held-out": _series(epochs, "val_loss", "epoch"),
    }
    accuracy = {
        "train (running mean)": _series(batches, "batch_accuracy", "epoch_progress"),
        "held-out": _series(epochs, "val_accuracy", "epoch"),
    }
    panels = [
        (title, {name: xy for name, xy in curves.items() if xy[0]})
        for title, curves in (("loss", losses), ("accuracy", accuracy))
        if any(xy[0] for xy in curves.values())
    ]
    return draw(os.path.join(output_dir, CURVES), panels, f"fine-tuning: {output_dir}", "epoch")
