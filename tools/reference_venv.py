"""Reference implementations and candidate libraries in venvs of their own, for benchmarks and checks
that compare against them in the same run (installed on first use), plus the one way the tools run a
command and fail loudly.

Example:
    >>> python = model_garden_python()  # doctest: +SKIP
    >>> run_checked([python, "-m", "official.nlp.data.create_pretraining_data", "--helpshort"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import subprocess
import sys

MODEL_GARDEN_REQUIREMENT = "tf-models-official==2.20.0"
DEFAULT_VENV_DIR = os.path.expanduser(os.environ.get("BERT_TF_VENVS", "~/.cache/bert_tf/venvs"))
QUIET_TF = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
# Programs run inside a reference venv (they import the reference, never this project).
REFERENCE_PROGRAMS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference_programs")


def venv_python(name: str, requirements: list[str], venv_dir: str = DEFAULT_VENV_DIR) -> str:
    """Path of the interpreter of venv `name` holding `requirements` (created once, and filled
    again whenever the requirements differ from those it was filled with)."""
    venv = os.path.join(venv_dir, name)
    python, marker = os.path.join(venv, "bin", "python"), os.path.join(venv, ".installed")
    wanted = "\n".join(requirements)
    installed = open(marker).read() if os.path.exists(marker) else None
    if installed != wanted:
        print(f"installing {' '.join(requirements)} into {venv}", flush=True)
        if not os.path.exists(python):
            subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", *requirements], check=True)
        with open(marker, "w") as f:
            f.write(wanted)
    return python


def model_garden_python(venv_dir: str = DEFAULT_VENV_DIR) -> str:
    """The Model Garden (tf-models-official) venv's interpreter (~1 minute to install)."""
    return venv_python("model_garden", [MODEL_GARDEN_REQUIREMENT], venv_dir)


def run_checked(command: list[str]) -> str:
    """stdout + stderr of `command` (TF logging quiet); a failure raises with the end of stderr."""
    result = subprocess.run(command, capture_output=True, text=True, env=QUIET_TF)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} failed:\n{result.stderr[-3000:]}")
    return result.stdout + result.stderr
