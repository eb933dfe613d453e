"""Write a bert_tf checkpoint as a keras-hub preset directory.

    python -m bert_tf.export_keras_hub_preset --checkpoint=runs/tiny --output=runs/tiny/keras_hub_preset

Then, with only keras-hub: `keras_hub.models.BertBackbone.from_preset(DIR)` and
`keras_hub.models.BertTokenizer.from_preset(DIR)` (uncased models lower-case and strip accents, as
ours).
"""

from __future__ import annotations

from absl import flags

from bert_tf.core import cli
from bert_tf.interop.keras_hub_preset import save_keras_hub_preset

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "A model_dir (latest checkpoint) or a checkpoint prefix.")
flags.DEFINE_string("output", None, "Preset directory to write.")
flags.DEFINE_bool("do_lower_case", True, "Uncased vocabulary: lower-case and strip accents.")


def main(argv):
    del argv
    prefix = save_keras_hub_preset(FLAGS.checkpoint, FLAGS.output, FLAGS.do_lower_case)
    print(f"wrote keras-hub preset of {prefix} to {FLAGS.output}")


command = cli.command(main, required=("checkpoint", "output"))  # the installed console command

if __name__ == "__main__":
    command()
