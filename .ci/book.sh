#!/usr/bin/env bash
# The book's checks (called from .ci/checks.sh): execute every chapter at the smoke profile into a fresh run store
# and build the HTML with warnings as errors (`gridbook book`), re-execute the executed notebooks under nbval
# (`--nbval-lax`: cells must run without error), then render every page in headless Chromium (.ci/browser_check.py;
# a screenshot of each page is left in book/_build/screenshots).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
unset MPLBACKEND  # with MPLBACKEND=Agg the kernels draw no inline figures
STORE=$(mktemp -d "${TMPDIR:-/tmp}/gridbook-ci-store.XXXXXX")
trap 'rm -rf "$STORE"' EXIT

echo "== book: execute every chapter at the smoke profile and build the HTML (warnings are errors)"
start=$(date +%s)
"$VENV/bin/gridbook" book --profile smoke --store "$STORE"
echo "book: smoke build took $(( $(date +%s) - start )) s"

echo "== book: nbval on the executed chapters"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env book/chapters/*.ipynb

echo "== book: headless Chromium renders every page: figures load and are drawn, equations are typeset, no stub"
"$VENV/bin/python" .ci/browser_check.py book/_build/html --self-test --screenshot book/_build/screenshots
