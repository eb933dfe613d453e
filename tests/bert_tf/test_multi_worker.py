"""The same train step under MultiWorkerMirroredStrategy: two worker processes on 127.0.0.1 give the
loss and the update of one device on the same global batch."""

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.bert_tf.conftest import GLOBAL_BATCH
from tests.bert_tf.test_trainer import make_trainer, run

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def free_ports(n):
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def test_two_workers_match_one_device(tmp_path, global_batch, vocab):
    single = make_trainer(
        tf.distribute.OneDeviceStrategy("/cpu:0"), tmp_path / "single", len(vocab)
    )
    np.savez(
        tmp_path / "initial_weights.npz",
        **{f"w{i}": w for i, w in enumerate(single.model.get_weights())},
    )
    np.savez(tmp_path / "batch.npz", **{k: v.numpy() for k, v in global_batch.items()})
    expected = run(single, global_batch, 2)

    cluster = {"worker": [f"127.0.0.1:{port}" for port in free_ports(2)]}
    workers = []
    for index in range(2):
        env = {
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PYTHONPATH": ROOT,
            "TF_CONFIG": json.dumps(
                {"cluster": cluster, "task": {"type": "worker", "index": index}}
            ),
        }
        workers.append(
            subprocess.Popen(
                [
                    sys.executable,
                    os.path.join(ROOT, "tests", "bert_tf", "multi_worker_step.py"),
                    str(tmp_path),
                    str(index),
                    str(len(vocab)),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
        )
    results = []
    for worker in workers:
        stdout, stderr = worker.communicate(timeout=300)
        assert worker.returncode == 0, stderr[-3000:]
        results.append(json.loads(stdout.strip().splitlines()[-1]))

    assert GLOBAL_BATCH == 8 and all(r["replicas"] == 2 for r in results)
    for result in results:
        for name in ("loss", "mlm_loss", "nsp_loss", "mlm_accuracy", "grad_norm"):
            assert np.isclose(result["metrics"][name], expected[name], rtol=1e-5, atol=1e-6), name
        final = np.load(result["weights"])
        for i, weight in enumerate(single.model.get_weights()):
            np.testing.assert_allclose(final[f"w{i}"], weight, rtol=1e-4, atol=2e-6)
