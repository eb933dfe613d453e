"""Running the entry points as a user does: `python -m MODULE --flags` in a subprocess from the repo root."""

import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}


def run_module(module: str, *args: str) -> str:
    """stdout of a successful run; a failure shows the end of stderr."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=ENV, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def run_module_expecting_error(module: str, *args: str) -> str:
    """The last stderr line of a run that must fail (our errors are one line)."""
    result = subprocess.run(
        [sys.executable, "-m", module, *args], capture_output=True, text=True, env=ENV, cwd=ROOT
    )
    assert result.returncode != 0, result.stdout[-2000:]
    return result.stderr.strip().splitlines()[-1]


def run_fresh_python(script: str, *args: str, cwd: str) -> dict:
    """The JSON last line printed by `python -c script args` in a fresh process that cannot import
    project code (no PYTHONPATH, run outside the repo)."""
    result = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env={**ENV, "PYTHONPATH": ""},
        cwd=cwd,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])
