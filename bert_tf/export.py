"""Export a trained checkpoint as a SavedModel that serves from a fresh process with only tensorflow
and tensorflow_text installed (docs/recipe.md §7; no project code needed to load it).

    python -m bert_tf.export --checkpoint=runs/tiny --output=runs/tiny/saved_model

Signatures: serving_default (raw text or text pairs), encode (ids), fill_mask, next_sentence — see
bert_tf/serving/signatures.py; `saved_model_cli show --dir DIR --all` lists them.

The SavedModel is written beside --output and moved into place whole (bert_tf/core/outputs.py): a killed
export leaves the previous SavedModel intact. An existing SavedModel is replaced only with
--overwrite; a directory holding anything else is refused.

Example (fresh process):
    >>> import tensorflow as tf, tensorflow_text  # doctest: +SKIP
    >>> bert = tf.saved_model.load("runs/tiny/saved_model")  # doctest: +SKIP
    >>> bert.signatures["serving_default"](text=tf.constant(["the river bank"]), text_b=tf.constant([""]))  # doctest: +SKIP
"""

from __future__ import annotations

from absl import flags

from bert_tf.core import cli, outputs
from bert_tf.modeling.checkpoints import load_checkpoint_dir
from bert_tf.serving.signatures import BertServingModule

FLAGS = flags.FLAGS
flags.DEFINE_string(
    "checkpoint", None, "A model_dir (latest checkpoint is used) or a checkpoint prefix."
)
flags.DEFINE_string("output", None, "SavedModel directory to write.")
flags.DEFINE_string("bert_config", None, "bert_config.json (default: the one in the model_dir).")
flags.DEFINE_string("vocab", None, "vocab.txt (default: the one in the model_dir).")
flags.DEFINE_integer(
    "max_seq_length", 128, "Raw-text inputs are truncated and padded to this length."
)
flags.DEFINE_bool(
    "do_lower_case", True, "Uncased model: lower-case and strip accents in the graph."
)
flags.DEFINE_integer("top_k", 5, "Candidates per [MASK] returned by the fill_mask signature.")
flags.DEFINE_bool("overwrite", False, "Replace an existing SavedModel at --output (as a whole).")


def export(
    checkpoint: str,
    output: str,
    bert_config_file: str | None = None,
    vocab_file: str | None = None,
    max_seq_length: int = 128,
    lower_case: bool = True,
    top_k: int = 5,
    overwrite: bool = False,
) -> tuple[str, list[str]]:
    """Writes the SavedModel; returns the checkpoint prefix used and the signature names."""
    outputs.check_cloud_credentials([checkpoint, output, bert_config_file, vocab_file])
    model, vocab_file, prefix = load_checkpoint_dir(checkpoint, bert_config_file, vocab_file)
    module = BertServingModule(model, vocab_file, max_seq_length, lower_case, top_k)
    signatures = module.signatures()
    outputs.save_saved_model(module, output, signatures, overwrite)
    return prefix, sorted(signatures)


def main(argv):
    del argv
    prefix, signatures = export(
        FLAGS.checkpoint,
        FLAGS.output,
        FLAGS.bert_config,
        FLAGS.vocab,
        FLAGS.max_seq_length,
        FLAGS.do_lower_case,
        FLAGS.top_k,
        FLAGS.overwrite,
    )
    print(f"exported {prefix} to {FLAGS.output} (signatures: {', '.join(signatures)})")


command = cli.command(main, required=("checkpoint", "output"))  # the installed console command

if __name__ == "__main__":
    command()
