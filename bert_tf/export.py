"""Export a trained checkpoint as a SavedModel that serves from a fresh process with only tensorflow
and tensorflow_text installed (SPEC §7; no project code needed to load it).

    python -m bert_tf.export --checkpoint=runs/tiny --output=runs/tiny/saved_model

Signatures:
- `serving_default(text)`: a batch of raw strings → pooled_output, sequence_output, input_mask;
  lower-casing/accent stripping, WordPiece, truncation and [CLS]/[SEP] packing run in the graph.
- `encode(input_word_ids, input_mask, input_type_ids)`: already-tokenized int32 ids → pooled_output,
  sequence_output (TF Hub / Model Garden input names).

Example (fresh process):
    >>> import tensorflow as tf, tensorflow_text  # doctest: +SKIP
    >>> bert = tf.saved_model.load("runs/tiny/saved_model")  # doctest: +SKIP
    >>> bert.signatures["serving_default"](text=tf.constant(["the river bank"]))["pooled_output"]  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys

import tensorflow as tf
from absl import app, flags

from bert_tf.config import BertConfig
from bert_tf.model import backbone_inputs, backbone_of, build_pretraining_model

FLAGS = flags.FLAGS
flags.DEFINE_string("checkpoint", None, "A model_dir (latest checkpoint is used) or a checkpoint prefix.")
flags.DEFINE_string("output", None, "SavedModel directory to write.")
flags.DEFINE_string("bert_config", None, "bert_config.json (default: the one in the model_dir).")
flags.DEFINE_string("vocab", None, "vocab.txt (default: the one in the model_dir).")
flags.DEFINE_integer("max_seq_length", 128, "Raw-text inputs are truncated and padded to this length.")
flags.DEFINE_bool("do_lower_case", True, "Uncased model: lower-case and strip accents in the graph.")


def resolve_checkpoint(path: str) -> tuple[str, str]:
    """(checkpoint prefix, model_dir) for a model_dir, its checkpoints/ dir, or a prefix."""
    if tf.io.gfile.isdir(path):
        for directory in (os.path.join(path, "checkpoints"), path):
            prefix = tf.train.latest_checkpoint(directory)
            if prefix:
                return prefix, path
        raise FileNotFoundError(f"--checkpoint {path}: no checkpoint found in it")
    if not tf.io.gfile.exists(path + ".index"):
        raise FileNotFoundError(f"--checkpoint {path}: not a directory nor a checkpoint prefix")
    model_dir = os.path.dirname(os.path.dirname(path)) if os.path.basename(os.path.dirname(path)) == "checkpoints" \
        else os.path.dirname(path)
    return path, model_dir


def load_backbone(prefix: str, bert_config: BertConfig):
    """Rebuilds the pre-training model (with NSP head, else MLM-only: the checkpoint decides), restores
    `prefix` into it — built first, as restore needs — and returns its BertBackbone."""
    error = None
    for next_sentence_prediction in (True, False):
        model = build_pretraining_model(bert_config, 1, next_sentence_prediction)
        try:
            tf.train.Checkpoint(model=model).read(prefix).expect_partial().assert_existing_objects_matched()
            return backbone_of(model)
        except AssertionError as mismatch:
            error = mismatch
    raise ValueError(f"{prefix} does not match bert_config {bert_config}: {str(error)[:500]}")


class BertServingModule(tf.Module):
    """The exported object: the backbone plus a tensorflow-text tokenizer, both tracked."""

    def __init__(self, backbone, vocab_file: str, max_seq_length: int, lower_case: bool):
        super().__init__()
        import tensorflow_text as tf_text

        self.backbone = backbone
        self.tokenizer = tf_text.BertTokenizer(vocab_file, token_out_type=tf.int32, lower_case=lower_case)
        with tf.io.gfile.GFile(vocab_file) as f:
            tokens = [line.strip() for line in f]
        self.cls_id, self.sep_id = tokens.index("[CLS]"), tokens.index("[SEP]")
        self.max_seq_length = max_seq_length

    def _outputs(self, ids, mask, segments):
        encoded = self.backbone(backbone_inputs(ids, mask, segments), training=False)
        return {"pooled_output": tf.cast(encoded["pooled_output"], tf.float32),
                "sequence_output": tf.cast(encoded["sequence_output"], tf.float32)}

    @tf.function(input_signature=[tf.TensorSpec([None, None], tf.int32, name=n)
                                  for n in ("input_word_ids", "input_mask", "input_type_ids")])
    def encode(self, input_word_ids, input_mask, input_type_ids):
        return self._outputs(input_word_ids, input_mask, input_type_ids)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="text")])
    def serve_text(self, text):
        import tensorflow_text as tf_text

        pieces = self.tokenizer.tokenize(text).merge_dims(-2, -1)
        pieces = pieces[:, :self.max_seq_length - 2]
        ids, segments = tf_text.combine_segments([pieces], self.cls_id, self.sep_id)
        ids, mask = tf_text.pad_model_inputs(ids, self.max_seq_length)
        segments, _ = tf_text.pad_model_inputs(segments, self.max_seq_length)
        return {**self._outputs(ids, mask, segments), "input_mask": mask}


def export(checkpoint: str, output: str, bert_config_file: str | None = None, vocab_file: str | None = None,
           max_seq_length: int = 128, lower_case: bool = True) -> str:
    prefix, model_dir = resolve_checkpoint(checkpoint)
    bert_config = BertConfig.from_json_file(bert_config_file or os.path.join(model_dir, "bert_config.json"))
    vocab_file = vocab_file or os.path.join(model_dir, "vocab.txt")
    if not tf.io.gfile.exists(vocab_file):
        raise FileNotFoundError(f"vocab file not found: {vocab_file} (pass --vocab)")
    module = BertServingModule(load_backbone(prefix, bert_config), vocab_file, max_seq_length, lower_case)
    tf.saved_model.save(module, output, signatures={"serving_default": module.serve_text,
                                                    "encode": module.encode})
    return prefix


def main(argv):
    del argv
    if not FLAGS.checkpoint or not FLAGS.output:
        sys.exit("error: --checkpoint and --output are required")
    try:
        prefix = export(FLAGS.checkpoint, FLAGS.output, FLAGS.bert_config, FLAGS.vocab, FLAGS.max_seq_length,
                        FLAGS.do_lower_case)
    except (FileNotFoundError, ValueError, AssertionError) as error:
        sys.exit(f"error: {error}")
    print(f"exported {prefix} to {FLAGS.output} (signatures: serving_default, encode)")


if __name__ == "__main__":
    app.run(main)
