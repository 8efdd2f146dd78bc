#!/usr/bin/env bash
# Set up (if needed) and open JupyterLab on the quickstart notebook.
set -euo pipefail
cd "$(dirname "$0")/.."
NBANNOTATE_SKIP_BROWSER=1 bash scripts/setup.sh
exec .venv/bin/jupyter lab notebooks/quickstart.ipynb "$@"
