"""Benchmark: the trainer's input pipeline — time to the first batch after resuming at 1 k, 100 k and
1 M consumed records (ours: position from the manifest's record counts; reference: reading and
skipping what was consumed, as the trainer did until 12-01, measured in the same run), and input
records/s at L128 and L512 against what a Cloud TPU host consumes pre-training BERT-base.

    python -m tools.bench_input                 # ≈ 3 min on 2 cores (records are generated once)

Records are synthetic but in the pipeline's exact layout (16 shards + manifest.json) under
--work_dir. The consumption figure is the BERT paper's (Devlin et al. 2019, appendix A.2): BERT-base,
1 M steps × 256 sequences in 4 days on 4 Cloud TPUs = 741 sequences/s, 185 per Cloud TPU host.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np
from absl import app, flags

FLAGS = flags.FLAGS
flags.DEFINE_string("work_dir", "~/.cache/bert_tf/bench/input", "Generated records go here.")
flags.DEFINE_integer("records", 300_000, "L128 records to generate (the L512 set has a quarter).")
flags.DEFINE_list("positions", ["1000", "100000", "1000000"], "Consumed records to resume at.")
flags.DEFINE_integer("batch_size", 256, "Batch size (one input pipeline).")
flags.DEFINE_integer("throughput_batches", 200, "Batches timed for records/s (after 20 warm-up).")

SHARDS, PREDICTIONS = 16, 20
PAPER_SEQUENCES_PER_HOST = 1_000_000 * 256 / (4 * 86_400) / 4  # 185 sequences/s per Cloud TPU host


def generate(directory: str, count: int, seq: int) -> list[str]:
    """`count` random records of the pipeline's schema in SHARDS shards plus manifest.json (once)."""
    import tensorflow as tf

    manifest = os.path.join(directory, "manifest.json")
    files = [
        os.path.join(directory, f"train-{i:05d}-of-{SHARDS:05d}.tfrecord") for i in range(SHARDS)
    ]
    if os.path.exists(manifest):
        return files
    os.makedirs(directory, exist_ok=True)
    rng = np.random.default_rng(0)
    shards = []
    for index, path in enumerate(files):
        n = count // SHARDS
        with tf.io.TFRecordWriter(path + ".tmp") as writer:
            for _ in range(n):
                ids = rng.integers(1000, 30522, seq)
                features = {
                    "input_ids": ids, "input_mask": np.ones(seq, np.int64),
                    "segment_ids": (np.arange(seq) >= seq // 2).astype(np.int64),
                    "masked_lm_positions": np.sort(rng.choice(seq, PREDICTIONS, replace=False)),
                    "masked_lm_ids": rng.integers(1000, 30522, PREDICTIONS),
                    "next_sentence_labels": rng.integers(0, 2, 1),
                }  # fmt: skip
                feature = {
                    k: tf.train.Feature(int64_list=tf.train.Int64List(value=v))
                    for k, v in features.items()
                }
                feature["masked_lm_weights"] = tf.train.Feature(
                    float_list=tf.train.FloatList(value=np.ones(PREDICTIONS))
                )
                example = tf.train.Example(features=tf.train.Features(feature=feature))
                writer.write(example.SerializeToString())
        os.rename(path + ".tmp", path)
        shards.append(
            {"file": os.path.basename(path), "bytes": os.path.getsize(path), "records": n}
        )
        print(f"generated {directory}: shard {index + 1}/{SHARDS}", flush=True)
    with open(manifest, "w") as f:
        json.dump({"records": sum(s["records"] for s in shards), "shards": shards}, f)
    return files


def read_and_skip(files: list[str], batch_size: int, seq: int, skip: int):
    """The trainer's input until 12-01: seeded file shuffle, 8-file interleave, 10,000-record shuffle
    buffer, then `.skip(consumed)` — which reads every consumed record again."""
    import tensorflow as tf

    from bert_tf.training.data import _decode

    files_ds = tf.data.Dataset.from_tensor_slices(files).shuffle(len(files), seed=1).repeat()
    records = files_ds.interleave(
        tf.data.TFRecordDataset,
        cycle_length=8,
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=True,
    )
    records = records.shuffle(10_000, seed=1).skip(skip).batch(batch_size, drop_remainder=True)
    return records.map(lambda r: _decode(r, seq, PREDICTIONS, True)).prefetch(2)


def first_batch_seconds(dataset) -> float:
    start = time.perf_counter()
    next(iter(dataset))
    return time.perf_counter() - start


def records_per_second(dataset, batch_size: int, batches: int) -> float:
    iterator = iter(dataset)
    for _ in range(20):
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def main(argv):
    del argv
    from bert_tf.training.data import make_dataset

    work = os.path.expanduser(FLAGS.work_dir)
    l128 = generate(os.path.join(work, "L128"), FLAGS.records, 128)
    l512 = generate(os.path.join(work, "L512"), FLAGS.records // 4, 512)
    batch = FLAGS.batch_size

    def ours(files, seq, skip=0):
        return make_dataset(
            files, batch, seq, PREDICTIONS, is_training=True, seed=1, skip_records=skip
        )

    print(
        f"\ninput benchmark: batch {batch}, {len(l128)} shards of {FLAGS.records // SHARDS:,} L128 records"
    )
    print(
        "| resumed at (records) | ours: first batch (s) | read-and-skip: first batch (s) | speed-up |"
    )
    print("|---:|---:|---:|---:|")
    for position in map(int, FLAGS.positions):
        fast = first_batch_seconds(ours(l128, 128, position))
        slow = first_batch_seconds(read_and_skip(l128, batch, 128, position))
        print(f"| {position:,} | {fast:.2f} | {slow:.2f} | {slow / fast:.0f}× |", flush=True)
    print(
        f"\nrecords/s on one input pipeline vs the BERT paper's {PAPER_SEQUENCES_PER_HOST:.0f} sequences/s per"
    )
    print("Cloud TPU host (BERT-base; target ≥ 10×):")
    print("| length | ours (records/s) | × TPU host consumption |")
    print("|---|---:|---:|")
    for seq, files in ((128, l128), (512, l512)):
        rate = records_per_second(ours(files, seq), batch, FLAGS.throughput_batches)
        print(f"| L{seq} | {rate:,.0f} | {rate / PAPER_SEQUENCES_PER_HOST:.0f}× |", flush=True)


if __name__ == "__main__":
    app.run(main)
