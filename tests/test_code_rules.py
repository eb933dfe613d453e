"""House rules that a reviewer would otherwise check by hand: command-line flags are read only where a
program starts, library functions fit on one screen (≤ 60 lines), and the repo's text never sends a
reader to a document the repo does not contain."""

from __future__ import annotations

import ast
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGES = ("bert_tf", "pipelines", "tools")
# Where FLAGS may be read: the program's main, the functions that turn flags into typed values
# (`config_from_flags`, `inputs_from_flags`, ...), and the flags parser handed to absl
# (pipelines/create_pretraining_data passes Beam's flags on).
FLAG_READERS = {"main", "parse_known_flags"}


def reads_flags(function: str | None) -> bool:
    return function in FLAG_READERS or (function or "").endswith("_from_flags")


def flag_reads_outside_entry_points(source: str) -> list[str]:
    """'line: function' for every use of FLAGS outside the functions that may read flags (module level `FLAGS = flags.FLAGS`
    and flag definitions are not reads).

    >>> flag_reads_outside_entry_points("FLAGS = flags.FLAGS\\ndef main(argv):\\n    return FLAGS.x\\n")
    []
    >>> flag_reads_outside_entry_points("def helper():\\n    return FLAGS.x\\n")
    ['2: helper']
    """
    tree = ast.parse(source)
    found = []

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            inner = (
                child.name
                if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef))
                else function
            )
            if (
                isinstance(child, ast.Assign)
                and function is None
                and all(isinstance(t, ast.Name) and t.id == "FLAGS" for t in child.targets)
            ):
                continue
            if isinstance(child, ast.Name) and child.id == "FLAGS" and not reads_flags(function):
                found.append(f"{child.lineno}: {function or 'module level'}")
            visit(child, inner)

    visit(tree, None)
    return found


def python_files():
    for package in PACKAGES:
        yield from sorted((ROOT / package).rglob("*.py"))


def test_flags_are_read_only_where_a_program_starts():
    offenders = {
        str(path.relative_to(ROOT)): reads
        for path in python_files()
        if (reads := flag_reads_outside_entry_points(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}


def test_no_reference_to_documents_outside_the_repo():
    outside = re.compile(r"SPEC(\.md| ?§)|DESIGN\.md|\.\./shared|\bthe seeds\b|seeds/")
    texts = [
        *python_files(),
        *ROOT.glob("*.md"),
        *(ROOT / "docs").rglob("*.md"),
        *(ROOT / "tools").glob("*.sh"),
    ]
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in texts
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert offenders == []


def long_functions(source: str, limit: int = 60) -> list[str]:
    """'name (N lines)' for every function longer than `limit` lines, nested ones included.

    >>> long_functions("def short():\\n    return 1\\n", limit=2)
    []
    >>> long_functions("def long():\\n    a = 1\\n    return a\\n", limit=2)
    ['long (3 lines)']
    """
    return [
        f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for node in ast.walk(ast.parse(source))
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and node.end_lineno - node.lineno + 1 > limit
    ]


def test_library_functions_fit_on_one_screen():
    offenders = {
        str(path.relative_to(ROOT)): found
        for package in ("bert_tf", "pipelines")
        for path in sorted((ROOT / package).rglob("*.py"))
        if (found := long_functions(path.read_text(encoding="utf-8")))
    }
    assert offenders == {}
