#!/usr/bin/env bash
# The oldest versions pyproject.toml allows: a second venv (.venv-min) with every runtime
# dependency pinned to its lower bound (scripts/min_versions.py) and the newest of the rest
# (numpy 2), set up once and again when pyproject.toml changes; then a fast but real subset
# of the Python tests there: the store and to_pandas, the sources, teach and manual sessions,
# the widget's kernel side, silver, progress bars. scripts/test.sh runs it; arguments go to
# pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
stamp=.venv-min/.nbannotate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  rm -rf .venv-min
  "$PY" -m venv .venv-min
  .venv-min/bin/python scripts/min_versions.py > .venv-min/constraints.txt
  .venv-min/bin/python -m pip install -q -c .venv-min/constraints.txt -e . "pytest>=8"
  touch "$stamp"
fi
.venv-min/bin/python scripts/min_versions.py --check
exec .venv-min/bin/python -m pytest "$@" tests/test_store.py tests/test_sources.py \
  tests/test_session.py tests/test_manual.py tests/test_widget.py tests/test_silver.py \
  tests/test_progress.py tests/test_packaging.py
