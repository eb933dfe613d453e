"""The Model Garden (tf-models-official) in a venv of its own, for benchmarks and conformance checks
that compare against the reference implementation in the same run. Installed on first use.

Example:
    >>> python = model_garden_python()  # doctest: +SKIP
    >>> subprocess.run([python, "-m", "official.nlp.data.create_pretraining_data", "--helpshort"])  # doctest: +SKIP
"""

from __future__ import annotations

import os
import subprocess
import sys

MODEL_GARDEN_REQUIREMENT = "tf-models-official==2.20.0"
DEFAULT_VENV_DIR = os.path.expanduser(os.environ.get("BERT_TF_VENVS", "~/.cache/bert_tf/venvs"))


def model_garden_python(venv_dir: str = DEFAULT_VENV_DIR) -> str:
    """Path of the Python interpreter of the Model Garden venv (created and filled once, ~1 minute)."""
    venv = os.path.join(venv_dir, "model_garden")
    python = os.path.join(venv, "bin", "python")
    if not os.path.exists(os.path.join(venv, ".installed")):
        print(f"installing {MODEL_GARDEN_REQUIREMENT} into {venv} (once)", flush=True)
        subprocess.run([sys.executable, "-m", "venv", venv], check=True)
        subprocess.run([python, "-m", "pip", "install", "-q", MODEL_GARDEN_REQUIREMENT], check=True)
        open(os.path.join(venv, ".installed"), "w").close()
    return python
