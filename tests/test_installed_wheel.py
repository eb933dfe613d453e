"""The project as a user installs it: a wheel built from this checkout, `pip install`ed into a fresh venv,
and the demo's path run through the console commands from a directory outside the repo — for every
Python here that the pinned TensorFlow supports (3.11, and 3.12 when an interpreter for it is found; on
3.12 the fast tier — every test not marked slow — runs too; the whole suite runs on 3.11).

The output of every command is checked for the noise that the quiet defaults hide (bert_tf/core/quiet.py)
and for any line starting E0000/W0000 (with oneDNN forced on), while a warning that matters (an input
file skipped) stays visible.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import sys

import pytest

from tests.bert_tf.cli import ROOT
from tests.conftest import write_kjv_chapters

KNOWN_NOISE = re.compile(
    r"cudart_stub|cuInit|absl::InitializeLog|cpu_feature_guard|oneDNN custom operations"
    r"|Converting string literal type hint|statecache\.py|functional_saver\.py"
    r"|signature_serialization\.py|Assets written to|fingerprinting_utils"
    r"|semi_persistent_directory|^I\d{4} "
)

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses


def _python312() -> str | None:
    """A working python3.12 (pyenv's shim may exist without the version selected)."""
    candidates = sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.12*/bin/python3.12"))) + [
        shutil.which("python3.12")
    ]
    return next(
        (
            c
            for c in candidates
            if c and subprocess.run([c, "-c", ""], capture_output=True).returncode == 0
        ),
        None,
    )


PYTHON312 = _python312()
PYTHONS = [
    pytest.param(sys.executable, id="python3.11"),
    pytest.param(
        PYTHON312, id="python3.12", marks=pytest.mark.skipif(not PYTHON312, reason="no python3.12")
    ),
]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("wheel")
    # a copy, so the build's own files (build/, egg-info) never land in the checkout
    src = out / "src"
    shutil.copytree(
        ROOT, src, ignore=shutil.ignore_patterns(".venv", ".git", "runs", "__pycache__", "build")
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(src), "-w", str(out)],
        check=True,
        capture_output=True,
    )
    (built,) = glob.glob(str(out / "bert_tf-*.whl"))
    return built


def _run(venv: str, command: str, *args: str, cwd: str) -> str:
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "PYTHONPATH")}
    # oneDNN on whatever the CPU (TensorFlow turns it on by itself only on some), so that an int64
    # op in our graphs shows as its `E0000 ... util.cc:131] oneDNN supports DT_INT64 only ...` line.
    env["TF_ENABLE_ONEDNN_OPTS"] = "1"
    result = subprocess.run(
        [os.path.join(venv, "bin", command), *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, f"{command}: {output[-3000:]}"
    noise = [line for line in output.splitlines() if KNOWN_NOISE.search(line)]
    assert not noise, f"{command} printed library noise: {noise[:5]}"
    alarming = [line for line in output.splitlines() if line.startswith(("E0000", "W0000"))]
    assert not alarming, f"{command} printed error-looking lines in a healthy run: {alarming[:5]}"
    return output


@pytest.mark.parametrize("python", PYTHONS)
def test_wheel_installs_and_its_commands_run_the_demo_path_quietly(
    python, wheel, samples, tmp_path
):
    venv = str(tmp_path / "venv")
    subprocess.run([python, "-m", "venv", venv], check=True)
    install = subprocess.run(
        [os.path.join(venv, "bin", "pip"), "install", "-q", wheel], capture_output=True, text=True
    )
    assert install.returncode == 0, install.stderr[-3000:]
    work = tmp_path / "work"  # not the repo: nothing may come from the checkout
    (work / "corpus").mkdir(parents=True)
    write_kjv_chapters(samples, work / "corpus" / "kjv.txt", 0, 12)
    (work / "corpus" / "broken.txt").write_bytes(b"\x00\x01binary")
    printed = _run(
        venv,
        "bert-tf-build-vocab",
        "--input=corpus/*.txt",
        "--vocab_size=1000",
        "--output=vocab.txt",
        cwd=work,
    )
    assert "wrote " in printed and "binary_file" in printed, printed
    printed = _run(
        venv,
        "bert-tf-create-pretraining-data",
        "--input=corpus/*.txt",
        "--vocab=vocab.txt",
        "--output_dir=data",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        "--num_shards=2",
        cwd=work,
    )
    assert "wrote " in printed and re.search(
        r"warning: .*skipped binary_file in .*broken\.txt", printed
    ), printed
    assert "instances" in _run(
        venv,
        "bert-tf-inspect-records",
        "--input=data/train-00000-of-00002.tfrecord",
        "--vocab=vocab.txt",
        "--num_examples=1",
        cwd=work,
    )
    _run(
        venv,
        "bert-tf-train",
        "--train_files=data/train-*",
        "--vocab=vocab.txt",
        "--bert_config=tiny",
        "--recipe=budget",
        "--model_dir=model",
        "--train_batch_size=8",
        "--num_train_steps=4",
        "--num_warmup_steps=1",
        "--log_every=2",
        "--checkpoint_every=2",
        "--max_seq_length=64",
        "--max_predictions_per_seq=10",
        cwd=work,
    )
    assert open(work / "model" / "curves.png", "rb").read(4) == b"\x89PNG"
    assert "signatures" in _run(
        venv, "bert-tf-export", "--checkpoint=model", "--output=saved_model", cwd=work
    )
    _run(
        venv,
        "bert-tf-import-hf-checkpoint",
        f"--hf_dir={samples['minilm']}",
        "--output_dir=minilm",
        cwd=work,
    )
    printed = _run(
        venv,
        "bert-tf-finetune",
        "--init_checkpoint=model",
        f"--train_file={samples['rotten_tomatoes']}",
        "--text_column=text",
        "--label_column=category",
        "--labels=fresh,rotten",
        "--max_train_examples=64",
        "--epochs=1",
        "--max_seq_length=32",
        "--batch_size=16",
        "--output_dir=sentiment",
        cwd=work,
    )
    assert "held-out accuracy" in printed
    assert open(work / "sentiment" / "curves.png", "rb").read(4) == b"\x89PNG"
    # another Python: also the fast tier (every test not marked slow)
    if python != sys.executable:
        subprocess.run(
            [os.path.join(venv, "bin", "pip"), "install", "-q", "pytest==8.4.2"],
            check=True,
            capture_output=True,
        )
        unit = subprocess.run(
            [os.path.join(venv, "bin", "python"), "-m", "pytest", "-q", "-m", "not slow", "tests"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        assert unit.returncode == 0, unit.stdout[-3000:]
