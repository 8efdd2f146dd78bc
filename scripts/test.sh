#!/usr/bin/env bash
# Set up (if needed), check lint, formatting and types (scripts/lint.sh), and run the whole
# test suite: Python unit and integration tests, the widget's JS unit tests and type check,
# and the end-to-end tests in Chromium inside JupyterLab; and, first, a subset of the Python
# tests with the oldest dependency versions pyproject.toml allows, in their own venv
# (scripts/test-min.sh; NBANNOTATE_MIN_VERSIONS=0 skips it). Arguments go to the main pytest
# run. Fails if any part fails.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/lint.sh  # ruff check, ruff format --check, mypy: the habits CI enforces
if [ -f package.json ] && [ -d node_modules ]; then
  npm test --silent
fi
min_status=0
if [ "${NBANNOTATE_MIN_VERSIONS:-1}" != "0" ]; then
  bash scripts/test-min.sh -q -p no:cacheprovider || min_status=$?
fi
status=0
.venv/bin/python -m pytest "$@" || status=$?
if [ "$min_status" != 0 ]; then
  echo "The tests with the minimum dependency versions (.venv-min) failed: see above." >&2
  exit "$min_status"
fi
exit "$status"
