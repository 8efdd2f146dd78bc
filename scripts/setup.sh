#!/usr/bin/env bash
# One-time (idempotent) set-up of a fresh clone: Python venv with the package and its dev
# dependencies, the JS toolchain (for the widget's tests and bundle check) and Chromium (for
# the end-to-end tests). Every step is skipped when already done.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
stamp=.venv/.nbannotate-installed
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e ".[dev]"
  touch "$stamp"
fi

# The widget's JS tooling (esbuild, vitest): only needed for development and tests; users of
# the package get the committed bundle in nbannotate/static/.
if [ -f package-lock.json ] && command -v npm >/dev/null 2>&1; then
  if [ ! -d node_modules ] || [ package-lock.json -nt node_modules ]; then
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
    touch node_modules
  fi
fi

# Debian's PostgreSQL server for the tests of the store on a server (tests/pg_cluster.py starts
# a throwaway cluster with it). Needs root, as on CI; otherwise say what to do.
if [ "${NBANNOTATE_SKIP_POSTGRES:-0}" != "1" ] && ! command -v initdb >/dev/null 2>&1 \
    && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "PostgreSQL is missing: run 'sudo apt-get install postgresql' for the store tests." >&2
  fi
fi

# Debian's Chromium for the end-to-end tests (playwright's own browser download cannot work
# here). Needs root, as on CI; otherwise say what to do.
if [ "${NBANNOTATE_SKIP_BROWSER:-0}" != "1" ] && [ ! -x /usr/lib/chromium/chromium ]; then
  if [ "$(id -u)" = "0" ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "Chromium is missing: run 'sudo apt-get install chromium' for the end-to-end tests." >&2
  fi
fi
