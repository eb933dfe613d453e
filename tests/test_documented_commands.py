"""Every command line in README.md and docs/ names only flags its program defines: each `python -m
MODULE --flag…` and `bert-tf-… --flag…` is checked against the flags the module registers when imported
(absl, the original's aliases, and for the pipeline Beam's pipeline options), so a renamed or removed
flag cannot linger in the documentation."""

import glob
import os
import re
import subprocess
import sys

import pytest
import tomllib

from tests.bert_tf.cli import ENV, ROOT

pytestmark = pytest.mark.slow  # one Python process per documented program

_FLAGS = r"((?:[ \t]+--[\w.-]+(?:=(?:'[^']*'|\"[^\"]*\"|[^\s`|]*))?)*)"
_PYTHON_M = re.compile(r"python -m ([\w.]+)" + _FLAGS)
_CONSOLE = re.compile(r"(?<![\w-])(bert-tf-[\w-]+)" + _FLAGS)
_LIST_FLAGS = """
import importlib, sys
from absl import flags
module = importlib.import_module(sys.argv[1])
if hasattr(module, "define_flags"):  # task makers define their flags only when run as programs
    module.define_flags()
names = set(flags.FLAGS)
if sys.argv[1].startswith("pipelines."):
    from apache_beam.options.pipeline_options import PipelineOptions
    names |= set(PipelineOptions([]).get_all_options())
print("\\n".join(sorted(names)))
"""


def console_modules() -> dict[str, str]:
    with open(os.path.join(ROOT, "pyproject.toml"), "rb") as f:
        scripts = tomllib.load(f)["project"]["scripts"]
    return {name: target.split(":")[0] for name, target in scripts.items()}


def documented_commands() -> dict[str, set[str]]:
    """module → every flag name the documentation gives it (the text with line continuations joined)."""
    consoles, found = console_modules(), {}
    for path in [os.path.join(ROOT, "README.md"), *glob.glob(os.path.join(ROOT, "docs", "*.md"))]:
        text = open(path, encoding="utf-8").read().replace("\\\n", " ")
        for pattern, module_of in ((_PYTHON_M, lambda m: m), (_CONSOLE, consoles.get)):
            for match in pattern.finditer(text):
                module = module_of(match.group(1))
                assert module, (
                    f"{path}: {match.group(1)} is not a console command of pyproject.toml"
                )
                found.setdefault(module, set()).update(re.findall(r"--([\w.-]+)", match.group(2)))
    return found


def test_the_documentation_names_programs_and_flags_that_exist():
    commands = documented_commands()
    assert {"pipelines.create_pretraining_data", "bert_tf.train", "bert_tf.finetune"} <= set(
        commands
    )
    unknown = []
    for module, names in sorted(commands.items()):
        listed = subprocess.run(
            [sys.executable, "-c", _LIST_FLAGS, module],
            capture_output=True,
            text=True,
            env=ENV,
            cwd=ROOT,
        )
        assert listed.returncode == 0, f"{module}: {listed.stderr[-1000:]}"
        known = set(listed.stdout.split())
        unknown += [
            f"{module} --{name}"
            for name in sorted(names)
            if name not in known and not (name.startswith("no") and name[2:] in known)
        ]
    assert not unknown, f"documented flags that do not exist: {unknown}"
