"""Every `>>>` example in the project's modules runs and shows what it says (examples that need a trained
model dir or a cluster are marked `# doctest: +SKIP` where they stand).

Entry points define their absl flags when imported, and several define the same names (`--input`), so
each of those is checked in a process of its own; every other module in this one.
"""

from __future__ import annotations

import doctest
import importlib
import pathlib
import re
import subprocess
import sys

import pytest

from tests.bert_tf.cli import ENV, ROOT

PACKAGES = ("bert_tf", "pipelines", "tools")


def _modules_with_examples() -> tuple[list[str], list[str]]:
    plain, entry_points = [], []
    for package in PACKAGES:
        for path in sorted(pathlib.Path(ROOT, package).rglob("*.py")):
            text = path.read_text(encoding="utf-8")
            if ">>>" not in text:
                continue
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts)
            (entry_points if re.search(r"^flags\.DEFINE", text, re.M) else plain).append(name)
    return plain, entry_points


PLAIN, ENTRY_POINTS = _modules_with_examples()


@pytest.mark.parametrize("name", PLAIN)
def test_examples_of_a_module_run(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, (
        f"{result.failed} of {result.attempted} examples in {name} failed (output above)"
    )


@pytest.mark.slow
@pytest.mark.parametrize("name", ENTRY_POINTS)
def test_examples_of_an_entry_point_run_in_their_own_process(name):
    program = (
        f"import doctest, importlib, sys; r = doctest.testmod(importlib.import_module({name!r}), "
        "optionflags=doctest.ELLIPSIS); sys.exit(1 if r.failed else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env=ENV,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_there_are_examples_to_run():
    assert len(PLAIN) >= 30 and ENTRY_POINTS, (PLAIN, ENTRY_POINTS)
