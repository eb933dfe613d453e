"""Interrupt training with SIGTERM and SIGKILL at random steps, resume each time: the final weights are
bit-identical to an uninterrupted run's, and so are the optimizer's moments and step (CPU,
--deterministic, same --seed; dropout on)."""

import os
import random
import re
import signal
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf

from tests.bert_tf.cli import ENV, ROOT, run_module

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses

STEPS = 12


def train_command(records, vocab_file, model_dir):
    return [
        sys.executable,
        "-m",
        "bert_tf.train",
        f"--train_files={records['pattern']}",
        f"--vocab={vocab_file}",
        "--bert_config=tiny",
        f"--model_dir={model_dir}",
        "--train_batch_size=8",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        f"--num_train_steps={STEPS}",
        "--num_warmup_steps=2",
        "--log_every=1",
        "--checkpoint_every=3",
        "--seed=5",
        "--deterministic",
        "--learning_rate=1e-3",
    ]


def run_until(command, step: int, signum: int) -> tuple[int, str]:
    """Starts training, sends `signum` once it logs `step`, returns (exit code, output)."""
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=ENV, cwd=ROOT
    )
    output = []
    for line in process.stdout:
        output.append(line)
        if line.startswith(f"step {step}/"):
            process.send_signal(signum)
            break
    rest, _ = process.communicate(timeout=300)
    return process.returncode, "".join(output) + rest


def final_weights(model_dir) -> dict:
    reader = tf.train.load_checkpoint(os.path.join(model_dir, "checkpoints", f"ckpt-{STEPS}"))
    return {
        name: reader.get_tensor(name)
        for name in reader.get_variable_to_shape_map()
        # the training clock (wall time, for --train_minutes) is the one value a rerun cannot repeat
        if not name.startswith(("_CHECKPOINTABLE_OBJECT_GRAPH", "save_counter", "training_seconds"))
    }  # weights, moments, step, RNG


def test_sigterm_and_sigkill_at_random_steps_then_resume_bit_exact(
    pretraining_records, vocab_file, tmp_path
):
    seed = random.randrange(1_000_000)  # in every failure message, to replay the steps
    rng = random.Random(seed)
    term_step, kill_step = rng.randint(1, 5), rng.randint(6, STEPS - 1)
    reference = tmp_path / "uninterrupted"
    run_module(*train_command(pretraining_records, vocab_file, reference)[2:])

    interrupted = tmp_path / "interrupted"
    command = train_command(pretraining_records, vocab_file, interrupted)
    code, out = run_until(command, term_step, signal.SIGTERM)
    # The signal lands during the next execution: that step finishes, is saved, and the run exits 0.
    saved = re.findall(r"saved checkpoint .*ckpt-(\d+)", out)
    assert code == 0 and "SIGTERM received" in out and saved and int(saved[-1]) >= term_step, (
        seed,
        out[-2000:],
    )
    code, out = run_until(command, kill_step, signal.SIGKILL)
    assert code == -signal.SIGKILL and f"at step {saved[-1]}" in out, (seed, out[-2000:])
    finished = run_module(*command[2:])
    assert f"step {STEPS}/{STEPS}" in finished and "skipping the" in finished

    expected, got = final_weights(reference), final_weights(interrupted)
    assert expected.keys() == got.keys() and len(expected) > 20
    for name in expected:
        np.testing.assert_array_equal(
            got[name],
            expected[name],
            err_msg=f"{name} (seed {seed}: TERM at {term_step}, KILL at {kill_step})",
        )
