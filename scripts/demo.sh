#!/usr/bin/env bash
# Set up a fresh machine and open the quickstart notebook in JupyterLab (movie reviews bundled).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec .venv/bin/jupyter lab notebooks/quickstart.ipynb "$@"
