#!/usr/bin/env bash
# Sets up (if needed), fetches the sample data, and runs the pytest suite. Extra args go to pytest.
#   bash tools/run_tests.sh           every test (what CI runs)
#   bash tools/run_tests.sh --fast    all but the tests marked slow (subprocesses, venvs, kills, minutes of training)
# Tests run in two worker processes (pytest-xdist), a test file per worker at a time, so a file's
# shared fixtures are made once; PYTEST_WORKERS=1 runs them in this process.
set -euo pipefail
tier=()
if [ "${1:-}" = "--fast" ]; then
  tier=(-m "not slow")
  shift
fi
cd "$(dirname "$0")/.."
bash tools/setup.sh
export TF_CPP_MIN_LOG_LEVEL=2
.venv/bin/ruff check --quiet bert_tf pipelines tools tests || { echo "ruff: fix the errors above (ruff check)" >&2; exit 1; }
.venv/bin/ruff format --check --quiet bert_tf pipelines tools tests \
  || { echo "ruff: files above are not formatted; run: .venv/bin/ruff format bert_tf pipelines tools tests" >&2; exit 1; }
.venv/bin/python -m tools.fetch_sample_data > /dev/null
set +e
workers=(-n "${PYTEST_WORKERS:-2}" --dist loadfile)
[ "${PYTEST_WORKERS:-2}" = 1 ] && workers=()
.venv/bin/python -m pytest -q "${workers[@]}" "${tier[@]}" "$@" tests
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "pytest: no tests were collected (exit 5) — reported, not a failure"
  exit 0
fi
exit "$status"
