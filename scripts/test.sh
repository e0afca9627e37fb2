#!/usr/bin/env bash
# Set up a fresh machine and run the whole test suite: card unit tests (vitest), then every
# Python test (and the docstring examples), including the browser tests in JupyterLab and Notebook 7
# and the notebooks.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --test

echo "== card unit tests"
npm test --silent

echo "== python tests"
.venv/bin/python -m pytest tests activelabel_widget -q -p no:cacheprovider "$@"
