#!/usr/bin/env bash
# Install what the project needs on a fresh machine, idempotently.
#   scripts/setup.sh          the package with its demo extras (JupyterLab)
#   scripts/setup.sh --test   also the test extras and Debian's Chromium for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

with_tests=0
[ "${1:-}" = "--test" ] && with_tests=1

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
apt_updated=0
apt_install() {
    [ "$apt_updated" = 1 ] || { as_root apt-get update -qq; apt_updated=1; }
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

command -v npm >/dev/null || apt_install nodejs npm
if [ "$with_tests" = 1 ] && [ ! -x /usr/bin/chromium ]; then
    echo "== installing Debian's Chromium for the browser tests"
    apt_install chromium
fi

if [ "$with_tests" = 1 ] && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    echo "== installing Debian's PostgreSQL server for the team-store tests"
    apt_install postgresql
fi

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv"
    "$python" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip

echo "== building the card (js/ -> activelabel_widget/static/)"
npm ci --no-audit --no-fund --loglevel=error
npm run build --silent

echo "== installing activelabel_widget into .venv"
extras=demo
[ "$with_tests" = 1 ] && extras=demo,test
.venv/bin/python -m pip install -q -e ".[$extras]"
