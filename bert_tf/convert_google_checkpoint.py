"""Convert a google-research/bert TF1 checkpoint into a bert_tf model directory.

    python -m bert_tf.convert_google_checkpoint --google_checkpoint=uncased_L-12_H-768_A-12/bert_model.ckpt \\
        --output_dir=runs/bert_base_google

Reads `bert_model.ckpt` with `bert_config.json` and `vocab.txt` from beside it (or
--bert_config/--vocab) and writes OUTPUT_DIR/checkpoints/ckpt-0 + bert_config.json + vocab.txt: what
`bert_tf.export --checkpoint`, `bert_tf.finetune --init_checkpoint` and `bert_tf.train
--init_checkpoint` take.
"""

from __future__ import annotations

from absl import flags

from bert_tf.core import cli
from bert_tf.interop.google_checkpoint import convert

FLAGS = flags.FLAGS
flags.DEFINE_string("google_checkpoint", None, "TF1 checkpoint prefix, e.g. .../bert_model.ckpt.")
flags.DEFINE_string("bert_config", None, "bert_config.json (default: beside the checkpoint).")
flags.DEFINE_string("vocab", None, "vocab.txt (default: beside the checkpoint).")
flags.DEFINE_string("output_dir", None, "bert_tf model directory to write.")


def main(argv):
    del argv
    print(convert(FLAGS.google_checkpoint, FLAGS.output_dir, FLAGS.bert_config, FLAGS.vocab))


# the installed console command
command = cli.command(main, required=("google_checkpoint", "output_dir"))

if __name__ == "__main__":
    command()
