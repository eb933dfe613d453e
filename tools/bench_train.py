"""Benchmark: pre-training throughput of our train step against keras-hub's `BertMaskedLM.fit` and the
TF Model Garden's `BertPretrainerV2` on the same config, batch and precision, plus this machine's GEMM
peak measured in the same run (a benchmark, not a test).

    python -m tools.bench_train --sizes=tiny,small,base --policies=float32,mixed_bfloat16

Every cell runs in its own process (a BERT-base model with optimizer state takes ~9 GiB). The Model
Garden runs from its own venv (tf-models-official, installed by this script on first use into
~/.cache/bert_tf/venvs/model_garden; --nomodel_garden skips it). Inputs are one synthetic batch of
full-length sequences (batch × seq tokens, 20 masked positions, NSP labels), identical for all three.
Prints tokens/s and model FLOP/s as a share of the GEMM peak (training FLOPs = 3 × forward FLOPs).
keras-hub's BertMaskedLM has no NSP head: it does slightly less work per step than the other two.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
from absl import app, flags

from tools.reference_venv import REFERENCE_PROGRAMS, model_garden_python
from tools.timing import median_seconds

FLAGS = flags.FLAGS
flags.DEFINE_list(
    "sizes", ["tiny", "small", "base"], "Model sizes (bert_tf.modeling.config.NAMED_SIZES)."
)
flags.DEFINE_list("policies", ["float32", "mixed_bfloat16"], "Precision policies.")
flags.DEFINE_list("frameworks", ["ours", "keras_hub", "model_garden"], "What to time.")
flags.DEFINE_integer("batch_size", 32, "Global batch size.")
flags.DEFINE_integer("seq_length", 128, "Sequence length.")
flags.DEFINE_integer("steps", 5, "Timed steps per cell (after 2 warm-up steps).")
flags.DEFINE_string("cell", None, "Internal: run one cell 'framework:size:policy' and print JSON.")

VOCAB_SIZE, PREDICTIONS, WARMUP = 30522, 20, 2


@dataclasses.dataclass(frozen=True)
class Cell:
    """One timed measurement: a framework training one model size at one precision."""

    framework: str
    size: str
    policy: str
    batch_size: int
    seq_length: int
    steps: int


def synthetic_batch(batch: int, seq: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(0)
    return {
        "input_ids": rng.integers(1000, VOCAB_SIZE, (batch, seq)).astype(np.int32),
        "input_mask": np.ones((batch, seq), np.int32),
        "segment_ids": (np.arange(seq) >= seq // 2).astype(np.int32)[None].repeat(batch, 0),
        "masked_lm_positions": np.sort(
            rng.choice(np.arange(1, seq), (batch, PREDICTIONS)), axis=1
        ).astype(np.int32),
        "masked_lm_ids": rng.integers(1000, VOCAB_SIZE, (batch, PREDICTIONS)).astype(np.int32),
        "masked_lm_weights": np.ones((batch, PREDICTIONS), np.float32),
        "next_sentence_labels": rng.integers(0, 2, (batch, 1)).astype(np.int32),
    }


def training_flops(layers: int, hidden: int, batch: int, seq: int) -> float:
    """3 × forward matmul FLOPs of one step: encoder (QKVO, FFN, attention), MLM head, pooler."""
    inter = 4 * hidden
    per_layer = (
        seq * (2 * 4 * hidden * hidden + 2 * 2 * hidden * inter) + 2 * 2 * seq * seq * hidden
    )
    mlm = PREDICTIONS * (2 * hidden * hidden + 2 * hidden * VOCAB_SIZE)
    return 3.0 * batch * (layers * per_layer + mlm + 2 * hidden * hidden)


def gemm_peak(dtype: str, n: int = 2048) -> float:
    import tensorflow as tf

    a = tf.random.normal([n, n], dtype=tf.float32)
    a = tf.cast(a, dtype)
    matmul = tf.function(lambda x: tf.matmul(x, x))
    seconds = median_seconds(lambda: matmul(a).numpy(), 5, WARMUP)
    return 2.0 * n**3 / seconds


def cell_ours(cell: Cell, batch: dict) -> float:
    import tensorflow as tf

    from bert_tf.modeling.config import BertConfig
    from bert_tf.training.trainer import TrainConfig, Trainer

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    trainer = Trainer(
        strategy,
        BertConfig.named(cell.size, VOCAB_SIZE),
        TrainConfig(
            model_dir=tempfile.mkdtemp(prefix="bench_train_"),
            train_batch_size=cell.batch_size,
            max_seq_length=cell.seq_length,
            max_predictions_per_seq=PREDICTIONS,
            num_train_steps=1000,
            dtype_policy=cell.policy,
        ),
    )
    iterator = iter(
        strategy.experimental_distribute_dataset(tf.data.Dataset.from_tensors(batch).repeat())
    )

    def one_step():
        trainer.run_steps(iterator, 1)
        trainer.optimizer.iterations.numpy()  # waits for the step to finish

    return median_seconds(one_step, cell.steps, WARMUP)


def cell_keras_hub(cell: Cell, batch: dict) -> float:
    import keras
    import keras_hub
    import tensorflow as tf

    from bert_tf.modeling.config import NAMED_SIZES

    layers, hidden = NAMED_SIZES[cell.size]
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=VOCAB_SIZE,
        num_layers=layers,
        num_heads=hidden // 64,
        hidden_dim=hidden,
        intermediate_dim=4 * hidden,
        dtype=cell.policy,
    )
    model = keras_hub.models.BertMaskedLM(backbone, preprocessor=None)
    model.compile(
        optimizer=keras.optimizers.AdamW(1e-4),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        weighted_metrics=[],
    )
    x = {
        "token_ids": batch["input_ids"],
        "segment_ids": batch["segment_ids"],
        "padding_mask": batch["input_mask"],
        "mask_positions": batch["masked_lm_positions"],
    }
    data = tf.data.Dataset.from_tensors(
        (x, batch["masked_lm_ids"], batch["masked_lm_weights"])
    ).repeat()
    iterator = iter(data)
    return median_seconds(lambda: model.train_on_batch(*next(iterator)), cell.steps, WARMUP)


def run_cell(cell: Cell) -> dict:
    """Runs one cell in a fresh process; returns {'seconds': …} or {'error': …}."""
    from bert_tf.modeling.config import NAMED_SIZES

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    if cell.framework == "model_garden":
        batch_file = os.path.join(tempfile.mkdtemp(prefix="bench_train_"), "batch.npz")
        np.savez(batch_file, **synthetic_batch(cell.batch_size, cell.seq_length))
        layers, hidden = NAMED_SIZES[cell.size]
        command = [
            model_garden_python(),
            os.path.join(REFERENCE_PROGRAMS, "model_garden_train_step.py"),
            str(layers),
            str(hidden),
            cell.policy,
            batch_file,
            str(cell.steps),
            str(WARMUP),
        ]
    else:
        command = [
            sys.executable,
            "-m",
            "tools.bench_train",
            f"--cell={cell.framework}:{cell.size}:{cell.policy}",
            f"--batch_size={cell.batch_size}",
            f"--seq_length={cell.seq_length}",
            f"--steps={cell.steps}",
        ]
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        last = [line for line in result.stderr.strip().splitlines() if line.strip()][-1:] or ["?"]
        return {"error": last[0][:100]}
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_one_cell_here(cell: Cell) -> None:
    batch = synthetic_batch(cell.batch_size, cell.seq_length)
    seconds = {"ours": cell_ours, "keras_hub": cell_keras_hub}[cell.framework](cell, batch)
    print(json.dumps({"seconds": seconds}))


def ratio(cells: dict[str, dict], reference: str, seconds: float) -> str:
    """How many times faster than `reference` a cell taking `seconds` is ('–' if the reference failed)."""
    if "seconds" not in cells.get(reference, {}):
        return "–"
    return f"{cells[reference]['seconds'] / seconds:.2f}×"


def main(argv):
    del argv
    measured = functools.partial(
        Cell, batch_size=FLAGS.batch_size, seq_length=FLAGS.seq_length, steps=FLAGS.steps
    )
    if FLAGS.cell:
        return run_one_cell_here(measured(*FLAGS.cell.split(":")))
    from bert_tf.modeling.config import NAMED_SIZES

    peaks = {
        policy: gemm_peak("bfloat16" if "bfloat16" in policy else "float32")
        for policy in FLAGS.policies
    }
    tokens = FLAGS.batch_size * FLAGS.seq_length
    print(
        f"\ntrain-step benchmark: batch {FLAGS.batch_size} × seq {FLAGS.seq_length}, median of {FLAGS.steps} steps"
    )
    print(
        "GEMM peak (2048² matmul): "
        + ", ".join(f"{p} {v / 1e9:.0f} GFLOP/s" for p, v in peaks.items())
    )
    print(
        "| size | precision | framework | s/step | tokens/s | GFLOP/s | % of GEMM peak | vs keras-hub | vs Model Garden |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|")
    for size in FLAGS.sizes:
        layers, hidden = NAMED_SIZES[size]
        flops = training_flops(layers, hidden, FLAGS.batch_size, FLAGS.seq_length)
        for policy in FLAGS.policies:
            cells = {
                framework: run_cell(measured(framework, size, policy))
                for framework in FLAGS.frameworks
            }
            for framework, cell in cells.items():
                if "error" in cell:
                    print(
                        f"| {size} | {policy} | {framework} | failed: {cell['error']} | | | | | |",
                        flush=True,
                    )
                    continue
                seconds = cell["seconds"]
                print(
                    f"| {size} | {policy} | {framework} | {seconds:.3f} | {tokens / seconds:,.0f} | "
                    f"{flops / seconds / 1e9:.1f} | {100 * flops / seconds / peaks[policy]:.0f}% | "
                    f"{ratio(cells, 'keras_hub', seconds)} | {ratio(cells, 'model_garden', seconds)} |",
                    flush=True,
                )


if __name__ == "__main__":
    app.run(main)
