"""Print pre-training TFRecords the way a person checks them: decoded tokens with the masks shown,
the segments, the NSP label, and the run's stats.json summary.

    python -m pipelines.inspect_tfrecords --input='out/train-*.tfrecord' --vocab=vocab.txt --num_examples=3

A masked position shows what the model sees and what it must predict: `[MASK]→river` (80%),
`{lake→river}` (a random replacement, 10%) or `{=river}` (kept unchanged, 10%). Records written with
--dynamic_masking have no masks yet and print plain.
"""

from __future__ import annotations

import glob
import json
import os
import sys

from absl import flags

from bert_tf.core import cli
from bert_tf.core.vocab import read_tokens
from pipelines.inspection import decode, render, stats_summary

FLAGS = flags.FLAGS
flags.DEFINE_string("input", None, "TFRecord file or glob.")
flags.DEFINE_string("vocab", None, "The vocab.txt the records were made with.")
flags.DEFINE_integer("num_examples", 3, "Examples to print.")


def main(argv):
    del argv
    import tensorflow as tf

    files = sorted(glob.glob(FLAGS.input or ""))
    if not files or not FLAGS.vocab:
        sys.exit(f"error: --input {FLAGS.input!r} matches no file, or --vocab is missing")
    tokens = read_tokens(FLAGS.vocab)
    for number, record in enumerate(tf.data.TFRecordDataset(files).take(FLAGS.num_examples)):
        print(f"[{number}] {render(decode(record.numpy()), tokens)}")
    stats_file = os.path.join(os.path.dirname(files[0]), "stats.json")
    if os.path.exists(stats_file):
        with open(stats_file) as f:
            print(f"\n{stats_file}:\n{stats_summary(json.load(f))}")


command = cli.command(main)  # the installed console command

if __name__ == "__main__":
    command()
