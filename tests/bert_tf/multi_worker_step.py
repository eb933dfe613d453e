"""One worker of the MultiWorkerMirroredStrategy test (run by test_multi_worker.py, two processes on
127.0.0.1): loads the shared initial weights and this worker's half of the global batch, runs two
train steps, prints the metrics and the updated weights' path to stdout as JSON."""

import json
import sys

import numpy as np
import tensorflow as tf

from bert_tf.modeling.config import BertConfig
from bert_tf.training.train_metrics import metrics_from_sums
from bert_tf.training.trainer import TrainConfig, Trainer


def main(work_dir: str, worker: int, vocab_size: int) -> None:
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    batch = dict(np.load(f"{work_dir}/batch.npz"))
    half = len(batch["input_ids"]) // 2
    local = {k: v[worker * half : (worker + 1) * half] for k, v in batch.items()}
    config = BertConfig.named(
        "tiny", vocab_size, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0
    )
    trainer = Trainer(
        strategy,
        config,
        TrainConfig(
            model_dir=f"{work_dir}/worker{worker}",
            train_batch_size=2 * half,
            max_seq_length=64,
            max_predictions_per_seq=10,
            num_train_steps=10,
            num_warmup_steps=2,
            learning_rate=1e-3,
        ),
    )
    initial = np.load(f"{work_dir}/initial_weights.npz")
    trainer.model.set_weights([initial[f"w{i}"] for i in range(len(initial.files))])
    dataset = strategy.distribute_datasets_from_function(
        lambda context: tf.data.Dataset.from_tensors(local).repeat()
    )
    trainer.run_steps(iter(dataset), 2)
    metrics = metrics_from_sums(trainer.accumulators.read())
    out = f"{work_dir}/final_weights_{worker}.npz"
    np.savez(out, **{f"w{i}": w for i, w in enumerate(trainer.model.get_weights())})
    print(
        json.dumps({"metrics": metrics, "weights": out, "replicas": strategy.num_replicas_in_sync})
    )


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
