"""Coordinated preemption under MultiWorkerMirroredStrategy, two `bert_tf.train` processes on 127.0.0.1:
SIGTERM to one worker makes both stop after the same step, save that step's checkpoint and exit 0;
running both again resumes there and ends where an uninterrupted run ends."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from tests.bert_tf.cli import ENV, ROOT
from tests.bert_tf.test_multi_worker import free_ports

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses

STEPS = 24


def launch(model_dir, records, vocab_file, logs):
    """Both workers of one run; their combined output goes to logs/worker{i}.txt."""
    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        tf_config = {"cluster": cluster, "task": {"type": "worker", "index": index}}
        out = open(os.path.join(logs, f"worker{index}.txt"), "w")
        command = [
            sys.executable, "-m", "bert_tf.train", "--strategy=multi_worker",
            f"--train_files={records['pattern']}", f"--vocab={vocab_file}", "--bert_config=tiny",
            f"--model_dir={model_dir}", "--train_batch_size=8", "--max_seq_length=64",
            "--max_predictions_per_seq=10", f"--num_train_steps={STEPS}", "--num_warmup_steps=2",
            "--log_every=1", "--checkpoint_every=1000", "--seed=3", "--deterministic",
        ]  # fmt: skip
        env = {**ENV, "TF_CONFIG": json.dumps(tf_config), "TMPDIR": str(logs)}
        workers.append(
            subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT)
        )
    return workers


def wait_all(workers, timeout=600):
    return [w.wait(timeout=timeout) for w in workers]


def saved_steps(logs, index):
    lines = open(os.path.join(logs, f"worker{index}.txt")).read().splitlines()
    return [int(line.rsplit("-", 1)[1]) for line in lines if line.startswith("saved checkpoint")]


def weights(model_dir):
    prefix = tf.train.latest_checkpoint(os.path.join(model_dir, "checkpoints"))
    reader = tf.train.load_checkpoint(prefix)
    # model, optimizer slots, step and RNG states (the model's weights are filed under the optimizer);
    # not the training clock (wall time, for --train_minutes)
    skip = (
        "_CHECKPOINTABLE_OBJECT_GRAPH",
        "save_counter/.ATTRIBUTES/VARIABLE_VALUE",
        "training_seconds/.ATTRIBUTES/VARIABLE_VALUE",
    )
    names = sorted(n for n in reader.get_variable_to_shape_map() if n not in skip)
    return prefix, {n: reader.get_tensor(n) for n in names}


def test_sigterm_to_one_worker_stops_both_at_the_same_step(
    tmp_path, pretraining_records, vocab_file
):
    whole_logs, cut_logs, again_logs = (tmp_path / name for name in ("whole", "cut", "again"))
    for logs in (whole_logs, cut_logs, again_logs):
        logs.mkdir()
    uninterrupted = str(tmp_path / "uninterrupted")
    assert wait_all(launch(uninterrupted, pretraining_records, vocab_file, whole_logs)) == [0, 0]

    interrupted = str(tmp_path / "interrupted")
    workers = launch(interrupted, pretraining_records, vocab_file, cut_logs)
    deadline = time.time() + 300
    while "step 5/" not in open(cut_logs / "worker1.txt").read():
        assert time.time() < deadline and workers[1].poll() is None, open(
            cut_logs / "worker1.txt"
        ).read()
        time.sleep(0.2)
    workers[1].send_signal(signal.SIGTERM)  # the non-chief: the chief hears of it only by the vote
    assert wait_all(workers) == [0, 0]
    stopped = saved_steps(cut_logs, 0)
    assert len(stopped) == 1 and stopped == saved_steps(cut_logs, 1) and 5 <= stopped[0] < STEPS
    assert "SIGTERM received" in open(cut_logs / "worker1.txt").read()
    assert tf.train.latest_checkpoint(os.path.join(interrupted, "checkpoints")).endswith(
        f"ckpt-{stopped[0]}"
    )

    assert wait_all(launch(interrupted, pretraining_records, vocab_file, again_logs)) == [0, 0]
    assert "resumed from" in open(again_logs / "worker1.txt").read()
    (prefix_a, a), (prefix_b, b) = weights(uninterrupted), weights(interrupted)
    assert prefix_a.endswith(f"ckpt-{STEPS}") and prefix_b.endswith(f"ckpt-{STEPS}")
    assert a.keys() == b.keys() and len(a) > 100
    for name in a:
        np.testing.assert_allclose(a[name], b[name], rtol=1e-5, atol=1e-6, err_msg=name)
    # The non-chief's private checkpoints (in its TMPDIR, here the logs dir) are gone.
    for logs in (whole_logs, cut_logs, again_logs):
        assert not [n for n in os.listdir(logs) if n.startswith("bert_tf-worker-")]
