"""Write a bert_tf model directory as a Hugging Face BERT checkpoint directory.

    python -m bert_tf.export_hf_checkpoint --checkpoint=runs/tiny --output_dir=runs/tiny-hf

The directory holds config.json, model.safetensors (transformers' `BertForPreTraining` tensor names:
encoder, pooler, `cls.predictions`, `cls.seq_relationship`), vocab.txt, tokenizer_config.json and
special_tokens_map.json. transformers' `BertForPreTraining.from_pretrained(DIR)`, keras-hub's
`BertBackbone.from_preset(DIR)` and `bert_tf.import_hf_checkpoint --hf_dir=DIR` read it.
"""

from __future__ import annotations

from absl import flags

from bert_tf.core import cli
from bert_tf.interop.hf_export import export_hf_checkpoint

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "A model_dir (latest checkpoint) or a checkpoint prefix.")
flags.DEFINE_string(
    "output_dir", None, "Hugging Face directory to write (must not exist or be empty)."
)
flags.DEFINE_bool("do_lower_case", True, "Uncased vocabulary: lower-case and strip accents.")


def main(argv):
    del argv
    print(export_hf_checkpoint(FLAGS.checkpoint, FLAGS.output_dir, FLAGS.do_lower_case))


command = cli.command(main, required=("checkpoint", "output_dir"))  # the installed console command

if __name__ == "__main__":
    command()
