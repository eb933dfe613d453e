"""The custom pre-training step and loop (docs/recipe.md §6), identical under TPU, Mirrored,
MultiWorker and one-device strategies.

Why hand-written instead of `Model.fit`: stock fit cannot run `steps_per_execution > 1` under
MirroredStrategy nor run at all under MultiWorkerMirroredStrategy (keras-team/keras#20585), and the
gradient must be clipped *after* the cross-replica sum. One replica step:

1. all-reduce the batch's MLM weight total and example count → the global normalisers;
2. loss share = Σ(w·NLL_mlm)/W_global + Σ NLL_nsp/B_global, so shares add up to the global loss
   (with --gradient_accumulation_steps=N, the gradients of N micro-batches are summed first);
3. all-reduce gradients, clip to the global norm `clip_norm` (1.0), hand them to the Keras optimizer
   divided by the replica count (Keras all-reduce-sums again);
4. add the step's sums to ON_READ/SUM accumulators (read = sum over replicas).

Example:
    >>> trainer = Trainer(make_strategy(None, "cpu"), BertConfig.named("tiny", 30522),
    ...                   TrainConfig(model_dir="/tmp/run"))  # doctest: +SKIP
    >>> trainer.restore()  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import time

import keras
import tensorflow as tf

from bert_tf.interop.google_checkpoint import is_google_checkpoint, load_google_model
from bert_tf.modeling.checkpoints import copy_weights, load_pretraining_model
from bert_tf.modeling.config import BertConfig
from bert_tf.modeling.cooccurrence import cooccurrence_embeddings
from bert_tf.modeling.model import (
    MODEL_INPUTS,
    backbone_of,
    build_pretraining_model,
    start_positions_sinusoidal,
)
from bert_tf.modeling.model_dir import ModelDir, resolve_checkpoint
from bert_tf.training import losses
from bert_tf.training.optimization import (
    TimeBudgetSchedule,
    WarmupPolynomialDecay,
    create_optimizer,
)
from bert_tf.training.train_metrics import Accumulators, metrics_from_sums

# Warmup share of a --train_minutes budget unless --warmup_proportion says otherwise.
BUDGET_WARMUP_PROPORTION = 0.1

# Strategies whose workers are separate processes that must agree when to stop.
MULTI_HOST_STRATEGIES = (tf.distribute.MultiWorkerMirroredStrategy, tf.distribute.TPUStrategy)


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    model_dir: str
    # global, per optimizer step: replicas × accumulation steps × micro-batch
    train_batch_size: int = 32
    gradient_accumulation_steps: int = 1  # micro-batches per optimizer step (gradients summed)
    max_seq_length: int = 128
    max_predictions_per_seq: int = 20
    num_train_steps: int = 1000  # the schedule's length (ignored with train_minutes)
    train_minutes: float | None = None  # train this long instead: the schedule spans the budget
    # warmup as a share of the schedule (of the budget, or of num_train_steps); None: 10% of a budget,
    # num_warmup_steps of a step count
    warmup_proportion: float | None = None
    stop_at_step: int | None = None  # end this run earlier (phase 1 of two-phase training)
    num_warmup_steps: int = 100
    learning_rate: float = 1e-4
    optimizer: str = "adamw"
    weight_decay: float = 0.01
    clip_norm: float = 1.0
    steps_per_execution: int = 1
    log_every: int = 50
    checkpoint_every: int = 500
    keep_checkpoints: int = 5
    next_sentence_prediction: bool = True
    init_checkpoint: str | None = None
    # or mixed_bfloat16 (TPU, AVX-512 CPUs), mixed_float16 (GPU, loss-scaled)
    dtype_policy: str = "float32"
    jit_compile: bool = False  # XLA-compile forward + backward (TPUStrategy always compiles)
    # train only the MLM/NSP heads (warm up fresh heads on an imported encoder)
    freeze_encoder: bool = False
    # a model trained from scratch starts its position embeddings as sinusoids (not random)
    sinusoidal_positions: bool = False
    # ... and its token embeddings from the PPMI co-occurrence of the training records (seconds
    # spent count against a --train_minutes budget)
    cooccurrence_embeddings: bool = False


class Trainer:
    """Owns the model, optimizer, accumulators and checkpoints; runs compiled multi-step
    executions."""

    def __init__(
        self, strategy: tf.distribute.Strategy, bert_config: BertConfig, config: TrainConfig
    ):
        self.strategy, self.bert_config, self.config = strategy, bert_config, config
        parts = strategy.num_replicas_in_sync * config.gradient_accumulation_steps
        if config.gradient_accumulation_steps < 1 or config.train_batch_size % parts:
            raise ValueError(
                f"--train_batch_size {config.train_batch_size} is not divisible by "
                f"{strategy.num_replicas_in_sync} replicas × --gradient_accumulation_steps "
                f"{config.gradient_accumulation_steps}"
            )
        with strategy.scope():
            self.model = build_pretraining_model(
                bert_config,
                config.max_predictions_per_seq,
                config.next_sentence_prediction,
                config.dtype_policy,
            )
            backbone_of(self.model).trainable = not config.freeze_encoder
            # Training time spent so far, all runs of this model dir (checkpointed): the budget's clock.
            self.training_seconds = tf.Variable(0.0, trainable=False, name="training_seconds")
            self.schedule = self._schedule()
            self.optimizer = create_optimizer(config.optimizer, self.schedule, config.weight_decay)
            # dynamic loss scaling; skips overflowing steps
            if config.dtype_policy == "mixed_float16":
                self.optimizer = keras.optimizers.LossScaleOptimizer(self.optimizer)
            # Build before any restore: restoring into unbuilt Keras 3 objects creates duplicates.
            self.optimizer.build(self.model.trainable_variables)
            self.accumulators = Accumulators(bert_config.vocab_size)
            self.eval_accumulators = Accumulators(bert_config.vocab_size)
        self._compiled_loss_and_gradients = (
            tf.function(self._loss_and_gradients, jit_compile=True)
            if config.jit_compile
            else self._loss_and_gradients
        )
        # The dropout layers' random-generator states are not part of a Keras model's checkpoint; saving
        # them too makes a resumed run draw the same dropout masks as an uninterrupted one.
        self.checkpoint = tf.train.Checkpoint(
            model=self.model,
            optimizer=self.optimizer,
            training_seconds=self.training_seconds,
            random_states=list(self.model.non_trainable_variables),
        )
        # Every worker saves (a multi-worker save is collective); only the chief into model_dir, the
        # others into a private temporary directory, removed by `close`.
        self.chief = strategy.extended.should_checkpoint
        self.checkpoint_dir = ModelDir(config.model_dir).checkpoints
        self._worker_dir = None if self.chief else tempfile.mkdtemp(prefix="bert_tf-worker-")
        self.manager = tf.train.CheckpointManager(
            self.checkpoint,
            self.checkpoint_dir if self.chief else self._worker_dir,
            max_to_keep=config.keep_checkpoints if self.chief else 1,
        )
        self._stop_votes = None
        if isinstance(strategy, MULTI_HOST_STRATEGIES):
            self._stop_votes = tf.function(self._count_stop_votes)

    def _schedule(self) -> keras.optimizers.schedules.LearningRateSchedule:
        """Warmup + linear decay over num_train_steps, or over the time budget (train_minutes)."""
        config = self.config
        if config.train_minutes:
            budget = config.train_minutes * 60.0
            share = config.warmup_proportion
            warmup = (BUDGET_WARMUP_PROPORTION if share is None else share) * budget
            return TimeBudgetSchedule(
                config.learning_rate, warmup, budget, seconds=self.training_seconds
            )
        warmup = config.num_warmup_steps
        if config.warmup_proportion is not None:
            warmup = round(config.warmup_proportion * config.num_train_steps)
        return WarmupPolynomialDecay(config.learning_rate, warmup, config.num_train_steps)

    @property
    def step(self) -> int:
        return int(self.optimizer.iterations.numpy())

    def learning_rate(self, step: int) -> float:
        return float(self.schedule(step))

    def restore(self, corpus_sample=None) -> str:
        """Resumes from the latest checkpoint in model_dir (every worker reads the chief's), else
        loads --init_checkpoint weights (ours, or a google-research/bert TF1 checkpoint), else
        starts fresh; `corpus_sample()` → (token ids [N, T], special ids) feeds the co-occurrence
        start of the token embeddings."""
        latest = tf.train.latest_checkpoint(self.checkpoint_dir)
        if latest:
            self.checkpoint.restore(latest).assert_existing_objects_matched()
            return f"resumed from {latest} at step {self.step}"
        if self.config.init_checkpoint:
            prefix, _ = resolve_checkpoint(self.config.init_checkpoint)
            if is_google_checkpoint(prefix):
                source, _ = load_google_model(prefix, self.bert_config)
            else:
                source = load_pretraining_model(prefix, self.bert_config)
            fresh = copy_weights(source, self.model)
            return f"initialized model weights from {prefix}" + (
                f" (not in it, starting fresh: {fresh})" if fresh else ""
            )
        return self._start_fresh(corpus_sample)

    def _start_fresh(self, corpus_sample) -> str:
        """A model from scratch, with the starts the config asks for; says which."""
        starts, scale = [], self.bert_config.initializer_range
        if self.config.sinusoidal_positions:
            start_positions_sinusoidal(self.model, scale)
            starts.append("sinusoidal position embeddings")
        if self.config.cooccurrence_embeddings:
            if corpus_sample is None:
                raise ValueError("--cooccurrence_embeddings needs the training records to count")
            began = time.monotonic()
            ids, special_ids = corpus_sample()
            table = backbone_of(self.model).token_embedding.embeddings
            table.assign(cooccurrence_embeddings(ids, *table.shape, special_ids, std=scale))
            seconds = time.monotonic() - began
            self.training_seconds.assign(seconds)  # part of the budget, as any other start-up
            starts.append(
                f"co-occurrence token embeddings of {len(ids)} records in {seconds:.0f} s"
            )
        return "initialized from scratch" + (f" ({', '.join(starts)})" if starts else "")

    def save(self) -> str:
        return self.manager.save(checkpoint_number=self.step)

    def close(self) -> None:
        """Removes a non-chief worker's private checkpoints."""
        if self._worker_dir:
            shutil.rmtree(self._worker_dir, ignore_errors=True)

    def _count_stop_votes(self, vote_and_seconds):
        # Every replica of a worker casts its worker's vote and clock: the summed vote is > 0 iff any
        # worker voted, the summed clock over the replica count is the workers' mean.
        def replica_vote(own):
            return tf.distribute.get_replica_context().all_reduce(
                tf.distribute.ReduceOp.SUM, tf.identity(own)
            )

        votes = self.strategy.run(replica_vote, args=(vote_and_seconds,))
        return self.strategy.experimental_local_results(votes)[0]

    def agree(self, stop_requested: bool, seconds: float) -> tuple[bool, float]:
        """(whether any worker wants to stop — a SIGTERM on one host —, the training time) that
        every worker uses. Under multi-worker and TPU strategies the workers vote with one tiny
        all-reduce, so all of them stop after the same step, save the same checkpoint and set the
        same learning rate (the mean of their clocks); elsewhere the local values decide. The time
        goes to `training_seconds`, the clock of the budget's schedule."""
        if self._stop_votes is not None:
            local = tf.constant([1.0 if stop_requested else 0.0, seconds])
            summed = self._stop_votes(local).numpy()
            stop_requested = bool(summed[0] > 0)
            seconds = float(summed[1]) / self.strategy.num_replicas_in_sync
        self.training_seconds.assign(seconds)
        return stop_requested, seconds

    def _loss_sums(self, batch: dict, training: bool) -> dict:
        """Forward pass → this replica's loss/accuracy sums (see bert_tf.training.losses)."""
        outputs = self.model({name: batch[name] for name in MODEL_INPUTS}, training=training)
        mlm = losses.mlm_terms(
            batch["masked_lm_ids"], batch["masked_lm_weights"], outputs["mlm_logits"]
        )
        predicted = tf.argmax(outputs["mlm_logits"], axis=-1, output_type=tf.int32)
        sums = {
            "mlm_nll": mlm.nll_sum,
            "mlm_weight": mlm.weight_sum,
            "mlm_correct": mlm.correct_sum,
            "predicted": tf.math.unsorted_segment_sum(
                tf.reshape(tf.cast(batch["masked_lm_weights"], tf.float32), [-1]),
                tf.reshape(predicted, [-1]),
                self.bert_config.vocab_size,
            ),
        }
        if self.config.next_sentence_prediction:
            nsp = losses.nsp_terms(batch["next_sentence_labels"], outputs["nsp_logits"])
            sums.update(nsp_nll=nsp.nll_sum, nsp_count=nsp.weight_sum, nsp_correct=nsp.correct_sum)
        return sums

    def _loss_and_gradients(self, batch: dict, global_weight, global_examples):
        """This replica's loss sums and (loss-scaled, dense) gradients of its share of the global
        loss."""
        variables = self.model.trainable_variables
        with tf.GradientTape() as tape:
            sums = self._loss_sums(batch, training=True)
            loss = losses.safe_ratio(sums["mlm_nll"], global_weight)
            if self.config.next_sentence_prediction:
                loss += sums["nsp_nll"] / global_examples
            if self._loss_scale is not None:
                loss = loss * self._loss_scale
        # Dense gradients: the big token embedding's is dense anyway (tied to the MLM output), and sparse
        # IndexedSlices would reach Adam with duplicated indices after the all-reduces (wrong 2nd moments).
        # Zeros for unconnected variables: in MLM-only mode the pooler gets no gradient.
        gradients = [
            tf.zeros_like(v) if g is None else tf.convert_to_tensor(g)
            for g, v in zip(tape.gradient(loss, variables), variables)
        ]
        return sums, gradients

    def _accumulated_loss_and_gradients(self, batch: dict, global_weight, global_examples):
        """`_loss_and_gradients` summed over the N micro-batches of a [N, micro, ...] batch, one at
        a time (memory of one micro-batch); N = 1 is the batch itself."""
        steps = self.config.gradient_accumulation_steps
        if steps == 1:
            return self._compiled_loss_and_gradients(batch, global_weight, global_examples)

        def micro_batch(i):
            micro = {name: value[i] for name, value in batch.items()}
            return self._compiled_loss_and_gradients(micro, global_weight, global_examples)

        def add_micro_batch(i, sums, gradients):
            new_sums, new_gradients = micro_batch(i)
            sums = {name: sums[name] + new_sums[name] for name in sums}
            return i + 1, sums, [a + b for a, b in zip(gradients, new_gradients)]

        # The first micro-batch starts the sums: their names and dtypes are the loss's own.
        first = (tf.constant(1), *micro_batch(0))
        _, sums, gradients = tf.while_loop(lambda i, *_: i < steps, add_micro_batch, first)
        return sums, gradients

    @property
    def _loss_scale(self):
        return (
            self.optimizer.dynamic_scale
            if isinstance(self.optimizer, keras.optimizers.LossScaleOptimizer)
            else None
        )

    def _replica_step(self, batch: dict) -> None:
        """One optimizer step on this replica's batch ([micro, ...] features, or [N, micro, ...]
        with N-step gradient accumulation): normalisers over the whole global batch, gradients
        summed locally, then one all-reduce, one clip and one update."""
        context = tf.distribute.get_replica_context()
        replicas = context.num_replicas_in_sync
        local_weight = tf.reduce_sum(batch["masked_lm_weights"])
        local_examples = tf.cast(tf.reduce_prod(tf.shape(batch["input_ids"])[:-1]), tf.float32)
        global_weight, global_examples = context.all_reduce(
            tf.distribute.ReduceOp.SUM, [local_weight, local_examples]
        )
        sums, gradients = self._accumulated_loss_and_gradients(
            batch, global_weight, global_examples
        )
        gradients = context.all_reduce(tf.distribute.ReduceOp.SUM, gradients)
        scale = self._loss_scale
        # clip the true gradient; LossScaleOptimizer unscales (and skips inf/NaN) again
        if scale is not None:
            gradients = [g / scale for g in gradients]
        gradients, norm = tf.clip_by_global_norm(gradients, self.config.clip_norm)
        factor = (1.0 if scale is None else scale) / replicas
        # (skipped on one device in float32: a full extra pass over every gradient)
        if factor != 1.0:
            gradients = [g * factor for g in gradients]
        self.optimizer.apply_gradients(zip(gradients, self.model.trainable_variables))
        self.accumulators.add(
            {
                **sums,
                "grad_norm": norm / replicas,
                "steps": 1.0 / replicas,
                "examples": local_examples,
                "tokens": tf.reduce_sum(batch["input_mask"]),
            }
        )

    @tf.function
    def _execute(self, iterator, num_steps):
        for _ in tf.range(num_steps):
            self.strategy.run(self._replica_step, args=(next(iterator),))

    def run_steps(self, iterator, num_steps: int) -> None:
        """Runs `num_steps` train steps in one compiled call (host-loop amortisation)."""
        self._execute(iterator, tf.constant(num_steps, tf.int32))

    def _eval_replica_step(self, batch: dict) -> None:
        self.eval_accumulators.add(
            {
                **self._loss_sums(batch, training=False),
                "examples": tf.cast(tf.shape(batch["input_ids"])[0], tf.float32),
                "tokens": tf.reduce_sum(batch["input_mask"]),
            }
        )

    @tf.function
    def _evaluate(self, dataset):
        for batch in dataset:
            self.strategy.run(self._eval_replica_step, args=(batch,))

    def evaluate(self, dataset) -> dict[str, float]:
        """Metrics over a whole (finite, distributed) eval dataset; the model is not changed."""
        self.eval_accumulators.reset()
        self._evaluate(dataset)
        sums = self.eval_accumulators.read()
        metrics = {k: v for k, v in metrics_from_sums(sums).items() if k != "grad_norm"}
        return metrics | {"examples": sums["examples"]}
