"""tools/demo.sh only ever deletes a run directory that an earlier demo made."""

import os
import subprocess

import pytest

pytestmark = pytest.mark.slow  # every test here runs the commands in subprocesses

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_demo_refuses_a_run_dir_it_did_not_make(tmp_path):
    (tmp_path / "thesis.tex").write_text("months of work")
    result = subprocess.run(
        ["bash", "tools/demo.sh"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "RUN_DIR": str(tmp_path)},
        timeout=600,
    )
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: {tmp_path} exists and was not made by")
    )
    assert os.listdir(tmp_path) == ["thesis.tex"]
