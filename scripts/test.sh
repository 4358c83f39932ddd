#!/usr/bin/env bash
# Runs every test of Natter: lints, Rust unit + integration tests on SQLite and
# PostgreSQL, the web UI's unit tests, Socket.IO protocol tests with the real
# socket.io-client (both stores) and python-socketio, and browser e2e tests in
# Chromium. Needs PostgreSQL and Redis on 127.0.0.1 (see .ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export NATTER_SKIP_UI_BUILD=1   # the UI is built explicitly below
step() { printf '\n==> %s\n' "$*"; }

step "web: install, type-check, unit tests, build"
(cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund; } && npm test && npm run build)

step "rust: fmt, clippy"
cargo fmt --all -- --check
cargo clippy --workspace --all-targets -- -D warnings

step "build the natter and conformance binaries"
cargo build -p natter-server -p natter-realtime --bins
export NATTER_BIN="$CARGO_TARGET_DIR/debug/natter"
export NATTER_CONFORMANCE_BIN="$CARGO_TARGET_DIR/debug/conformance"

step "S3 test server (moto) for the file-store tests, into the test venv"
# The Rust tests start it themselves on a free loopback port (tests/s3/server.py);
# a test that needs S3 fails, not skips, without it.
s3_venv="${NATTER_PY_VENV:-$HOME/.cache/natter-py-venv}"
[ -x "$s3_venv/bin/python" ] || python3 -m venv "$s3_venv"
"$s3_venv/bin/pip" install -q -r tests/s3/requirements.txt
export NATTER_TEST_S3_PYTHON="$s3_venv/bin/python"

step "rust: unit and integration tests (SQLite and PostgreSQL), bench smoke runs"
cargo nextest run --workspace --no-fail-fast

step "socket.io-client protocol tests (SQLite, then PostgreSQL)"
(cd tests/node && { [ -d node_modules ] || npm ci --no-audit --no-fund; }
 NATTER_TEST_STORE=sqlite npm test
 NATTER_TEST_STORE=postgres node --test --test-concurrency=2 natter/)

step "cluster failure test: 3 nodes on their own PostgreSQL and Redis; kill -9 a node, restart Redis, restart PostgreSQL"
# It starts and restarts real servers on a shared 2-core machine, so it gets one
# retry; a second failure fails the run. Its counts (sent, acked, lost = 0) print.
if [ -z "${NATTER_PG_BIN:-}" ] && [ -d /etc/postgresql ]; then
  export NATTER_PG_BIN="/usr/lib/postgresql/$(ls /etc/postgresql | sort -V | tail -n1)/bin"
fi
(cd tests/node && { npm run test:cluster || { echo "cluster failure test failed once; retrying"; npm run test:cluster; }; })

step "python-socketio interop tests"
venv="${NATTER_PY_VENV:-$HOME/.cache/natter-py-venv}"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/pip" install -q -r tests/python/requirements.txt
"$venv/bin/python" -m pytest -q tests/python

step "browser end-to-end tests (Chromium)"
(cd web && npm run e2e)

step "all tests passed"
