"""Import a Hugging Face BERT checkpoint (a local directory) as a bert_tf model directory.

    python -m bert_tf.import_hf_checkpoint --hf_dir=all-MiniLM-L6-v2 --output_dir=runs/minilm

The directory needs config.json, model.safetensors and vocab.txt (tokenizer_config.json for the
casing). keras-hub's converter reads the encoder; MLM/NSP heads load when the checkpoint has them
(`cls.*` tensors), else start fresh — the summary says which. The result is what `bert_tf.export
--checkpoint`, `bert_tf.finetune --init_checkpoint` and `bert_tf.train --init_checkpoint` take.
"""

from __future__ import annotations

from absl import flags

from bert_tf.core import cli
from bert_tf.interop.hf_checkpoint import import_hf_checkpoint

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "hf_dir", None, "Hugging Face BERT directory (config.json, model.safetensors, vocab.txt)."
)
flags.DEFINE_string(
    "output_dir", None, "New bert_tf model directory to write (must not exist or be empty)."
)


def main(argv):
    del argv
    print(import_hf_checkpoint(FLAGS.hf_dir, FLAGS.output_dir))


command = cli.command(main, required=("hf_dir", "output_dir"))  # the installed console command

if __name__ == "__main__":
    command()
