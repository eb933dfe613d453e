"""google-research/bert's flag names, so the command lines of its README run here unchanged.

Most are aliases (absl `DEFINE_alias`: the same flag under a second name, listed in `--helpfull`).
Where the meaning differs, the difference is deliberate and small:

- pipeline `--output_file=PATH`: the original writes one TFRecord file there; we write the directory
  PATH (sharded records, stats.json, manifest.json), and the trainer's `--input_file=PATH` reads it
  (`bert_tf.training.data.list_files` takes a directory as its `*.tfrecord` files).
- trainer `--output_dir` is the model directory (`--model_dir`), as in run_pretraining.py.
- trainer `--do_train` / `--do_eval`: train (default), then evaluate `--max_eval_steps` batches of
  `--eval_files`, or of the training files when no eval files are given, as run_pretraining.py does.
  `--do_train=false --do_eval` evaluates the model dir's checkpoint (or `--init_checkpoint`) only.
- trainer `--use_tpu`: a TPU; without `--tpu_name` the TPU VM's own chips (`--tpu=local`).
- trainer `--init_checkpoint` also takes the TF1 checkpoints google-research/bert published
  (`.../bert_model.ckpt`), read with bert_tf/interop/google_checkpoint.py.

Example (google-research/bert's README, then ours):
    python -m pipelines.create_pretraining_data --input_file=sample_text.txt \\
        --output_file=/tmp/tf_examples.tfrecord --vocab_file=$BERT_BASE_DIR/vocab.txt \\
        --do_lower_case=True --max_seq_length=128 --max_predictions_per_seq=20 --masked_lm_prob=0.15 \\
        --random_seed=12345 --dupe_factor=5
    python -m bert_tf.train --input_file=/tmp/tf_examples.tfrecord --output_dir=/tmp/pretraining_output \\
        --do_train=True --do_eval=True --bert_config_file=$BERT_BASE_DIR/bert_config.json \\
        --init_checkpoint=$BERT_BASE_DIR/bert_model.ckpt --train_batch_size=32 --max_seq_length=128 \\
        --max_predictions_per_seq=20 --num_train_steps=20 --num_warmup_steps=10 --learning_rate=2e-5
"""

from __future__ import annotations

from absl import flags

PIPELINE_ALIASES = {
    "input_file": "input",
    "output_file": "output_dir",
    "vocab_file": "vocab",
    "do_whole_word_mask": "whole_word_mask",
}
TRAINER_ALIASES = {
    "input_file": "train_files",
    "output_dir": "model_dir",
    "bert_config_file": "bert_config",
    "vocab_file": "vocab",
    "iterations_per_loop": "steps_per_execution",
    "save_checkpoints_steps": "checkpoint_every",
    "max_eval_steps": "eval_batches",
    "tpu_name": "tpu",
}


def define_aliases(aliases: dict[str, str]) -> None:
    """Every `alias → flag` of `aliases` (the flags must be defined already)."""
    for alias, name in aliases.items():
        flags.DEFINE_alias(alias, name)


def define_pipeline_flags() -> None:
    """The pipeline's aliases; call after its own flags are defined."""
    define_aliases(PIPELINE_ALIASES)


def define_trainer_flags() -> None:
    """The trainer's aliases and switches; call after its own flags are defined."""
    define_aliases(TRAINER_ALIASES)
    flags.DEFINE_bool(
        "do_train", True, "google-research/bert's switch: train (false: evaluate only)."
    )
    flags.DEFINE_bool(
        "do_eval",
        False,
        "google-research/bert's switch: evaluate --max_eval_steps batches at the end, on "
        "--eval_files or else on the training files (as run_pretraining.py does).",
    )
    flags.DEFINE_bool(
        "use_tpu", False, "google-research/bert's switch: run on a TPU (--tpu_name, else 'local')."
    )
    flags.DEFINE_string(
        "tpu_zone", None, "GCE zone of a Cloud TPU named by --tpu (found from metadata if unset)."
    )
    flags.DEFINE_string(
        "gcp_project", None, "GCP project of a Cloud TPU named by --tpu (found if unset)."
    )
