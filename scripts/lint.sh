#!/usr/bin/env bash
# The habits CI enforces: ruff's lint rules, ruff's formatting, and mypy's type check of the
# package (configuration in pyproject.toml). Run after scripts/setup.sh (scripts/test.sh does).
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check nbannotate tests benchmarks scripts
.venv/bin/ruff format --check nbannotate tests benchmarks scripts
.venv/bin/mypy
