#!/usr/bin/env bash
# Set up (if needed) and run the whole test suite: Python unit and integration tests, the
# widget's JS unit tests, and the end-to-end tests in Chromium inside JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if [ -f package.json ] && [ -d node_modules ]; then
  npm test --silent
fi
exec .venv/bin/python -m pytest "$@"
