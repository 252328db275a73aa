#!/usr/bin/env bash
# Every check the project has, in order: lint, layers, unit tests, the smoke book. Called by `make test` (and so by .ci/run).
set -euo pipefail
VENV=${VENV:-.venv}
echo "== ruff"
"$VENV/bin/ruff" check gridbook tests benchmarks
echo "== layers (import-linter contracts in pyproject.toml)"
"$VENV/bin/lint-imports"
echo "== unit tests"
"$VENV/bin/python" -m pytest -q -n 2 tests
echo "== book (smoke profile), nbval, browser check"
VENV="$VENV" bash .ci/book.sh
