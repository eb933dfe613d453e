"""A real global batch (from the pipeline's records) shared by the strategy-equivalence tests."""

import pytest

from bert_tf.training.data import make_dataset
from tests.bert_tf.cli import run_module

GLOBAL_BATCH = 8


@pytest.fixture(scope="session")
def global_batch(pretraining_records):
    dataset = make_dataset(
        [pretraining_records["pattern"]], GLOBAL_BATCH, 64, 10, is_training=False
    )
    return next(iter(dataset))


@pytest.fixture(scope="session")
def trained(pretraining_records, vocab_file, tmp_path_factory):
    """A tiny model trained by the CLI for 4 steps, then resumed to 6 (with held-out eval)."""
    model_dir = str(tmp_path_factory.mktemp("model"))
    common = [
        f"--train_files={pretraining_records['pattern']}",
        f"--vocab={vocab_file}",
        "--bert_config=tiny",
        f"--model_dir={model_dir}",
        "--strategy=cpu",
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_warmup_steps=2",
        "--log_every=2",
        "--checkpoint_every=4",
        "--seed=3",
        f"--eval_files={pretraining_records['pattern']}",
        "--eval_every=4",
        "--eval_batches=3",
    ]
    first = run_module("bert_tf.train", *common, "--num_train_steps=4")
    second = run_module("bert_tf.train", *common, "--num_train_steps=6")
    return {"dir": model_dir, "first": first, "second": second}
