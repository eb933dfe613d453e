"""Pre-train BERT (MLM + NSP) from TFRecords written by `pipelines.create_pretraining_data`.

    python -m bert_tf.train --train_files='out/train-*.tfrecord' --vocab=vocab.txt --bert_config=tiny \\
        --model_dir=runs/tiny --strategy=cpu --train_batch_size=32 --num_train_steps=300

On a TPU: `--tpu=NAME_OR_GRPC` (TPUClusterResolver + TPUStrategy). Re-running the same command
resumes from the latest checkpoint in --model_dir. TensorBoard: `tensorboard --logdir=MODEL_DIR`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import sys

import keras
import tensorflow as tf
from absl import flags

from bert_tf.core import cli, original_flags
from bert_tf.core.masking import MaskingConfig
from bert_tf.core.outputs import check_cloud_credentials, exclusive
from bert_tf.modeling.config import NAMED_SIZES, BertConfig
from bert_tf.modeling.model_dir import ModelDir, model_files, vocab_size_of
from bert_tf.training.distribute import STRATEGIES, make_strategy
from bert_tf.training.recipes import RECIPES, apply_recipe
from bert_tf.training.train_inputs import (
    TrainInputs,
    corpus_sample,
    distributed_inputs,
    explain_unreadable_input,
    prediction_slots,
    records_consumed,
)
from bert_tf.training.trainer import TrainConfig, Trainer
from bert_tf.training.training_loop import TrainingDiverged, train_loop

FLAGS = flags.FLAGS
_DEFAULTS = TrainConfig(model_dir="")
flags.DEFINE_list("train_files", None, "Comma-separated TFRecord files or globs.")
flags.DEFINE_list(
    "eval_files", None, "Held-out TFRecord files or globs, evaluated every --eval_every steps."
)
flags.DEFINE_integer("eval_every", 1000, "Steps between evaluations (and one at the end).")
flags.DEFINE_integer("eval_batches", 100, "At most this many eval batches per evaluation.")
flags.DEFINE_string(
    "model_dir", None, "Checkpoints, TensorBoard logs, bert_config.json and vocab.txt go here."
)
flags.DEFINE_string(
    "bert_config",
    None,
    f"A size name {sorted(NAMED_SIZES)} or a bert_config.json path "
    "(default: the --init_checkpoint's bert_config.json, else tiny).",
)
flags.DEFINE_string(
    "vocab",
    None,
    "vocab.txt of the data (sets vocab_size; copied to model_dir for export; "
    "default: the --init_checkpoint's vocab.txt).",
)
flags.DEFINE_string("tpu", None, "TPU name or grpc://address (or 'local'); overrides --strategy.")
flags.DEFINE_enum(
    "strategy", "cpu", list(STRATEGIES), "Distribution strategy when --tpu is not set."
)
flags.DEFINE_integer(
    "train_batch_size", _DEFAULTS.train_batch_size, "Global batch size (split across replicas)."
)
flags.DEFINE_integer("max_seq_length", _DEFAULTS.max_seq_length, "Must match the TFRecords.")
flags.DEFINE_integer(
    "max_predictions_per_seq", _DEFAULTS.max_predictions_per_seq, "Must match the TFRecords."
)
flags.DEFINE_integer("num_train_steps", _DEFAULTS.num_train_steps, "Total optimizer steps.")
flags.DEFINE_integer("num_warmup_steps", _DEFAULTS.num_warmup_steps, "Linear warmup steps.")
flags.DEFINE_float(
    "train_minutes",
    None,
    "Train for this many minutes of training time instead of --num_train_steps: warmup and decay "
    "are laid over the budget, the last checkpoint is written when it is spent, a resumed run goes "
    "on with the time already spent (evaluation time is not counted).",
)
flags.DEFINE_float(
    "warmup_proportion",
    None,
    "Warmup as a share of the schedule (of --train_minutes, or of --num_train_steps); "
    "default: --num_warmup_steps, or 0.1 with --train_minutes.",
)
flags.DEFINE_enum(
    "recipe",
    "bert",
    sorted(RECIPES),
    "bert: the paper's recipe (the flags' defaults). budget: pre-training from scratch in "
    "minutes (pre-LN blocks, no dropout, no NSP, lr 2e-3, more masks; values in bert_tf/training/recipes.py). "
    "Flags given explicitly override the recipe's values.",
)
flags.DEFINE_bool(
    "pre_layer_norm",
    None,
    "Pre-LayerNorm blocks + a final LayerNorm (recorded in bert_config.json); default: the config's.",
)
flags.DEFINE_bool(
    "sinusoidal_positions",
    False,
    "A model trained from scratch starts its learned position embeddings as sinusoids instead of "
    "random vectors (the format is unchanged).",
)
flags.DEFINE_bool(
    "cooccurrence_embeddings",
    False,
    "A model trained from scratch starts its token embeddings from the co-occurrence (PPMI + SVD) "
    "of the first training records' words instead of random vectors (the format is unchanged; "
    "the seconds it takes count against --train_minutes).",
)
flags.DEFINE_float("dropout", None, "Dropout of a fresh model (default: the config's, 0.1).")
flags.DEFINE_float(
    "initializer_range",
    None,
    "Standard deviation a fresh pre-LN model's weights start at (recorded in bert_config.json; "
    "default: the config's, BERT's 0.02).",
)
flags.DEFINE_float("learning_rate", _DEFAULTS.learning_rate, "Peak learning rate.")
flags.DEFINE_enum(
    "optimizer",
    _DEFAULTS.optimizer,
    ["adamw", "lamb"],
    "AdamW, or LAMB for large batches (the published variant: decay inside the trust ratio; "
    "LayerNorm and biases get neither).",
)
flags.DEFINE_float(
    "weight_decay", _DEFAULTS.weight_decay, "Decoupled weight decay (not on LayerNorm/bias)."
)
flags.DEFINE_float(
    "clip_norm", _DEFAULTS.clip_norm, "Clip the summed gradient to this global norm."
)
flags.DEFINE_integer(
    "gradient_accumulation_steps",
    _DEFAULTS.gradient_accumulation_steps,
    "Micro-batches per optimizer step: --train_batch_size is split into this many, their gradients "
    "summed before one all-reduce, clip and update (the recipe's batch on fewer accelerators).",
)
flags.DEFINE_integer(
    "steps_per_execution", _DEFAULTS.steps_per_execution, "Steps per compiled call (TPU: 100+)."
)
flags.DEFINE_integer("log_every", _DEFAULTS.log_every, "Steps between TensorBoard/console logs.")
flags.DEFINE_integer("checkpoint_every", _DEFAULTS.checkpoint_every, "Steps between checkpoints.")
flags.DEFINE_integer("keep_checkpoints", _DEFAULTS.keep_checkpoints, "Checkpoints to keep.")
flags.DEFINE_bool("no_nsp", False, "MLM only (RoBERTa style): no NSP head or loss.")
flags.DEFINE_string(
    "init_checkpoint", None, "Start from these weights (when model_dir has no checkpoint)."
)
flags.DEFINE_enum(
    "dtype_policy",
    _DEFAULTS.dtype_policy,
    ["float32", "mixed_bfloat16", "mixed_float16"],
    "Compute precision (variables, heads and losses stay float32); mixed_float16 adds loss scaling.",
)
flags.DEFINE_bool(
    "jit_compile", _DEFAULTS.jit_compile, "XLA-compile the forward and backward pass (TPU: always)."
)
flags.DEFINE_bool(
    "freeze_encoder",
    _DEFAULTS.freeze_encoder,
    "Train only the MLM/NSP heads: warm up heads that start "
    "fresh on an imported encoder (e.g. at a higher --learning_rate) before training everything.",
)
flags.DEFINE_integer(
    "stop_at_step",
    None,
    "End this run here (phase 1 of two-phase training); the schedule "
    "still spans --num_train_steps.",
)
flags.DEFINE_bool(
    "dynamic_masking",
    False,
    "Records are unmasked pairs (pipeline --dynamic_masking): mask every "
    "batch afresh in tf.data (15% of tokens, 80/10/10; eval files too).",
)
flags.DEFINE_float(
    "masked_lm_prob",
    None,
    "The fraction of tokens to predict. With --dynamic_masking: default 0.15. With masked records: "
    "re-mask every batch at this rate from the original ids the records hold (default: the records' "
    "own masks). Evaluation keeps the eval records' masks.",
)
flags.DEFINE_bool(
    "whole_word_mask",
    False,
    "With --dynamic_masking: mask all pieces of a word together (as the pipeline's flag does).",
)
flags.DEFINE_bool(
    "deterministic", False, "TF op determinism (with --seed): bit-identical reruns and resumes."
)
flags.DEFINE_integer("seed", None, "Seed for initialisation and input order (None: random).")
original_flags.define_trainer_flags()


def masking_from_flags() -> MaskingConfig | None:
    """How batches are masked when read: unmasked records (--dynamic_masking) at --masked_lm_prob
    (0.15) in --max_predictions_per_seq slots; masked records re-masked at --masked_lm_prob, in as
    many slots as that rate needs; None: the records' own masks."""
    if FLAGS.dynamic_masking:
        rate = 0.15 if FLAGS.masked_lm_prob is None else FLAGS.masked_lm_prob
        return MaskingConfig(rate, FLAGS.max_predictions_per_seq, FLAGS.whole_word_mask)
    if FLAGS.masked_lm_prob is None:
        return None
    slots = prediction_slots(
        FLAGS.masked_lm_prob, FLAGS.max_seq_length, FLAGS.max_predictions_per_seq
    )
    return MaskingConfig(FLAGS.masked_lm_prob, slots, FLAGS.whole_word_mask)


def inputs_from_flags() -> TrainInputs:
    """What to read; google-research/bert's --do_eval without eval files evaluates on the training
    files."""
    if not (FLAGS.do_train or FLAGS.do_eval):
        raise ValueError("--do_train=false and --do_eval=false: nothing to do; set one of them")
    if FLAGS.do_train and not FLAGS.train_minutes and FLAGS.num_train_steps < 1:
        # would end without writing a checkpoint
        raise ValueError(f"--num_train_steps={FLAGS.num_train_steps}: train for at least 1 step")
    eval_files = FLAGS.eval_files or (FLAGS.train_files if FLAGS.do_eval else ())
    return TrainInputs(
        train_files=tuple(FLAGS.train_files),
        eval_files=tuple(eval_files),
        evaluate_only=not FLAGS.do_train,
        seed=FLAGS.seed,
        eval_every=FLAGS.eval_every,
        eval_batches=FLAGS.eval_batches,
        masking=masking_from_flags(),
        records_masked=not FLAGS.dynamic_masking,
        record_predictions=FLAGS.max_predictions_per_seq,
    )


def config_from_flags() -> TrainConfig:
    """The trainer's configuration, every field named."""
    masking = masking_from_flags()
    return TrainConfig(
        model_dir=FLAGS.model_dir,
        train_batch_size=FLAGS.train_batch_size,
        gradient_accumulation_steps=FLAGS.gradient_accumulation_steps,
        max_seq_length=FLAGS.max_seq_length,
        max_predictions_per_seq=masking.max_predictions_per_seq
        if masking
        else FLAGS.max_predictions_per_seq,
        num_train_steps=FLAGS.num_train_steps,
        train_minutes=FLAGS.train_minutes,
        warmup_proportion=FLAGS.warmup_proportion,
        stop_at_step=FLAGS.stop_at_step,
        num_warmup_steps=FLAGS.num_warmup_steps,
        learning_rate=FLAGS.learning_rate,
        optimizer=FLAGS.optimizer,
        weight_decay=FLAGS.weight_decay,
        clip_norm=FLAGS.clip_norm,
        steps_per_execution=FLAGS.steps_per_execution,
        log_every=FLAGS.log_every,
        checkpoint_every=FLAGS.checkpoint_every,
        keep_checkpoints=FLAGS.keep_checkpoints,
        next_sentence_prediction=not FLAGS.no_nsp,
        init_checkpoint=FLAGS.init_checkpoint,
        dtype_policy=FLAGS.dtype_policy,
        jit_compile=FLAGS.jit_compile,
        freeze_encoder=FLAGS.freeze_encoder,
        sinusoidal_positions=FLAGS.sinusoidal_positions,
        cooccurrence_embeddings=FLAGS.cooccurrence_embeddings,
    )


def recipe_from_flags() -> None:
    """Fills the flags the command line did not give from --recipe (printed), then checks the
    schedule's length: --train_minutes or --num_train_steps, not both."""
    fresh_model = not FLAGS.init_checkpoint and (FLAGS.bert_config or "tiny") in NAMED_SIZES
    applied = apply_recipe(FLAGS, FLAGS.recipe, fresh_model)
    if applied:
        print(f"--recipe={FLAGS.recipe}: " + " ".join(f"--{k}={v}" for k, v in applied.items()))
    if FLAGS.train_minutes is not None:
        if FLAGS["num_train_steps"].present:
            raise ValueError("--train_minutes and --num_train_steps: give one length of training")
        if FLAGS.train_minutes <= 0:
            raise ValueError(
                f"--train_minutes={FLAGS.train_minutes}: train for more than 0 minutes"
            )


def bert_config_from_flags(spec: str, vocab: str | None) -> BertConfig:
    """The size name or bert_config.json, with --pre_layer_norm / --dropout / --initializer_range
    where given."""
    bert_config = BertConfig.from_name_or_file(spec, vocab_size_of(vocab))
    changes = {}
    if FLAGS.pre_layer_norm is not None:
        changes["pre_layer_norm"] = FLAGS.pre_layer_norm
    if FLAGS.dropout is not None:
        changes["hidden_dropout_prob"] = changes["attention_probs_dropout_prob"] = FLAGS.dropout
    if FLAGS.initializer_range is not None:
        changes["initializer_range"] = FLAGS.initializer_range
    return dataclasses.replace(bert_config, **changes).validate()


def main(argv):
    del argv
    recipe_from_flags()
    inputs = inputs_from_flags()
    if FLAGS.seed is not None:
        keras.utils.set_random_seed(FLAGS.seed)
    check_cloud_credentials(
        [
            *FLAGS.train_files,
            *(FLAGS.eval_files or []),
            FLAGS.model_dir,
            FLAGS.vocab,
            FLAGS.init_checkpoint,
            FLAGS.bert_config,
        ]
    )
    bert_config_spec, vocab = model_files(FLAGS.bert_config, FLAGS.vocab, FLAGS.init_checkpoint)
    bert_config = bert_config_from_flags(bert_config_spec, vocab)
    ModelDir(FLAGS.model_dir).check(bert_config, vocab)
    config = config_from_flags()
    if FLAGS.deterministic:
        tf.config.experimental.enable_op_determinism()
    tpu = FLAGS.tpu or ("local" if FLAGS.use_tpu else None)
    strategy = make_strategy(tpu, FLAGS.strategy, FLAGS.tpu_zone, FLAGS.gcp_project)
    # One trainer per model dir: the chief (the only writer of checkpoints and logs) holds the lock.
    chief = strategy.extended.should_checkpoint
    lock = exclusive(FLAGS.model_dir, "--model_dir") if chief else contextlib.nullcontext()
    flag_values = {f.name: f.value for f in FLAGS.get_flags_for_module(sys.modules[__name__])}
    with lock:
        train(strategy, bert_config, config, vocab, inputs, flag_values)


def train(
    strategy: tf.distribute.Strategy,
    bert_config: BertConfig,
    config: TrainConfig,
    vocab: str | None,
    inputs: TrainInputs,
    flag_values: dict,
) -> None:
    """Writes the model files, builds the trainer, restores, builds the inputs, then runs the loop
    (or one evaluation), holding the model dir's lock; `flag_values` go to TensorBoard as the run's
    hparams."""
    trainer = Trainer(strategy, bert_config, config)
    if trainer.chief:
        ModelDir(config.model_dir).write_side_files(bert_config, vocab)
    vocab_file = vocab or ModelDir(config.model_dir).vocab_file
    try:
        restored = trainer.restore(lambda: corpus_sample(inputs, config, vocab_file))
        print(
            restored, f"({strategy.__class__.__name__}, {strategy.num_replicas_in_sync} replicas)"
        )
        consumed = records_consumed(config, inputs, trainer.step, trainer.chief)
        if consumed:
            print(f"resuming the input stream: skipping the {consumed} records already trained on")
        train_data, eval_data = distributed_inputs(
            strategy, config, inputs, vocab_file, consumed, trainer.chief
        )
        if inputs.evaluate_only:
            metrics = trainer.evaluate(eval_data)
            print(
                f"evaluated step {trainer.step}: "
                + ", ".join(f"{k} {v:.4f}" for k, v in metrics.items())
            )
            return
        history = train_loop(trainer, iter(train_data), eval_data, inputs.eval_every, flag_values)
    except (FileNotFoundError, TrainingDiverged) as error:
        sys.exit(f"error: {error}")
    except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as error:
        problem = explain_unreadable_input(error, config, inputs)
        if problem is None:
            raise
        sys.exit(f"error: {problem}")
    finally:
        trainer.close()
    if history:
        print(
            f"done at step {trainer.step}: loss {history[-1]['loss']:.4f}; logs, checkpoints and "
            f"curves.png in {config.model_dir}"
        )


command = cli.command(main, required=("train_files", "model_dir"))  # the installed console command

if __name__ == "__main__":
    command()
