#!/usr/bin/env bash
# Runs every test of Natter: lints, the Rust unit and integration tests on SQLite and
# PostgreSQL, the web UI's unit tests, the Socket.IO protocol tests with the real
# socket.io-client (both stores) and python-socketio, the cluster failure test and the
# browser end-to-end tests in Chromium.
#
# It stands on its own: it starts a throw-away PostgreSQL (initdb into a temp dir, a
# free port) and its own redis-server, and stops them at the end, unless
# NATTER_TEST_DATABASE_URL (an admin URL, e.g. postgres://postgres@127.0.0.1:5432/postgres)
# and NATTER_TEST_REDIS_URL point at existing ones. It installs what is missing and can
# be installed (cargo-nextest, Debian's chromium as root, npm packages, a Python venv)
# and says in one line what it cannot do. Each step prints its duration; the run ends
# with a one-line summary of every suite's passed/failed counts.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$root/target}"
export NATTER_SKIP_UI_BUILD=1   # the UI is built explicitly below
if [ ! -t 1 ]; then export CARGO_TERM_COLOR=never NO_COLOR=1 FORCE_COLOR=0; fi
work=$(mktemp -d "${TMPDIR:-/tmp}/natter-test.XXXXXX")
t0=$SECONDS

# ---------- reporting ----------
summary=()      # "name: P passed, F failed (Ns)" per suite
total_pass=0
total_fail=0
failed_suites=()

strip() { sed -e 's/\x1b\[[0-9;]*[A-Za-z]//g' "$1"; }
# counts KIND LOG → "passed failed" as the suite's runner printed them
counts() {
  local kind=$1 log=$2 p=0 f=0
  case $kind in
    nextest) # "Summary [ 12.3s] 131 tests run: 130 passed, 1 failed, 2 skipped"
      local line; line=$(strip "$log" | grep -E '^ *Summary \[' | tail -n1 || true)
      p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
      f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) ;;
    node) # node --test, possibly several runs: "# pass N" / "# fail N"
      p=$(strip "$log" | awk '/^# pass /{s+=$3} END{print s+0}')
      f=$(strip "$log" | awk '/^# fail /{s+=$3} END{print s+0}') ;;
    node-last) # a node --test suite that may have been retried: its last run counts
      p=$(strip "$log" | awk '/^# pass /{s=$3} END{print s+0}')
      f=$(strip "$log" | awk '/^# fail /{s=$3} END{print s+0}') ;;
    vitest) # " Tests  2 failed | 25 passed (27)"
      local line; line=$(strip "$log" | grep -E '^ *Tests +[0-9]' | tail -n1 || true)
      p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
      f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) ;;
    pytest) # "1 failed, 6 passed in 3.2s"
      local line; line=$(strip "$log" | grep -E '[0-9]+ (passed|failed)' | tail -n1 || true)
      p=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || echo 0)
      f=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || echo 0) ;;
  esac
  echo "${p:-0} ${f:-0}"
}

record() { # NAME KIND LOG RC SECS
  local name=$1 kind=$2 log=$3 rc=$4 secs=$5 p f
  if [ "$kind" = check ]; then
    summary+=("$name: $([ "$rc" = 0 ] && echo ok || echo FAILED) (${secs}s)")
  else
    read -r p f < <(counts "$kind" "$log")
    # a runner that failed before it counted anything still fails the run
    if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi
    total_pass=$((total_pass + p)); total_fail=$((total_fail + f))
    summary+=("$name: $p passed, $f failed (${secs}s)")
  fi
  [ "$rc" = 0 ] || failed_suites+=("$name")
  printf '<== %s: %s in %ss\n' "$name" "$([ "$rc" = 0 ] && echo ok || echo "FAILED (exit $rc)")" "$secs"
}

# suite NAME KIND CMD… — runs CMD in the foreground (output shown and logged).
# KIND is how its counts are read: nextest, node, node-last, vitest, pytest or check.
# NATTER_TEST_ONLY="e2e cluster" runs only the suites whose names contain one of
# those words (set-up steps always run).
selected() {
  [ -z "${NATTER_TEST_ONLY:-}" ] && return 0
  local w; for w in $NATTER_TEST_ONLY; do case $1 in *"$w"*) return 0 ;; esac; done
  return 1
}
log_n=0
# sets $log to a new file (not through $(…): a subshell's count would not carry over,
# and every suite would share one file; suite names may hold '/')
logfile() { log_n=$((log_n + 1)); log="$work/suite-$log_n.log"; }

# Every suite runs under a time limit (`limit=SECS suite …`, 900 s unless given): a
# hang fails that suite, says so, and the run goes on, instead of the whole run
# overrunning CI's limit. timeout(1) signals the suite's whole process group.
bounded() { # SECS CMD…
  local secs=$1 rc; shift
  set +e
  timeout --kill-after=20 "$secs" "$@"
  rc=$?
  set -e
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    printf 'test.sh: stopped after its limit of %ss (a hang, or a much slower machine)\n' "$secs"
  fi
  return "$rc"
}

suite() {
  local name=$1 kind=$2 start=$SECONDS rc log secs=${limit:-900}; shift 2
  selected "$name" || return 0
  logfile
  printf '\n==> %s\n' "$name"
  set +e
  bounded "$secs" "$@" 2>&1 | tee "$log"
  rc=${PIPESTATUS[0]}
  set -e
  record "$name" "$kind" "$log" "$rc" $((SECONDS - start))
}

# Suites run side by side: start them with `bg_suite`, then `bg_wait` prints each
# one's output (in order) and records it.
bg_names=(); declare -A bg_pid bg_kind bg_start bg_log
bg_suite() {
  local name=$1 kind=$2; shift 2
  selected "$name" || return 0
  local log; logfile; bg_log[$name]=$log
  printf '==> %s (in parallel)\n' "$name"
  bounded "${limit:-900}" "$@" > "${bg_log[$name]}" 2>&1 &
  bg_pid[$name]=$!; bg_kind[$name]=$kind; bg_start[$name]=$SECONDS; bg_names+=("$name")
}
bg_wait() {
  local name rc secs
  for name in "${bg_names[@]}"; do
    set +e; wait "${bg_pid[$name]}"; rc=$?; set -e
    secs=$((SECONDS - bg_start[$name]))
    printf '\n==> %s (output)\n' "$name"; cat "${bg_log[$name]}" || true
    record "$name" "${bg_kind[$name]}" "${bg_log[$name]}" "$rc" "$secs"
  done
  bg_names=()
}

cannot() { printf 'test.sh: cannot run the tests: %s\n' "$*" >&2; exit 1; }
setup() { # a set-up step, timed
  local name=$1 start=$SECONDS; shift
  printf '\n==> %s\n' "$name"
  "$@"
  printf '<== %s: ok in %ss\n' "$name" $((SECONDS - start))
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# ---------- services: PostgreSQL and Redis of our own, unless given ----------
pg_dir=""; pg_bin=""; redis_pid=""
as_postgres() { # PostgreSQL refuses to run as root
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
stop_services() {
  if [ -n "$pg_dir" ] && [ -f "$pg_dir/data/postmaster.pid" ]; then
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  [ -z "$pg_dir" ] || rm -rf "$pg_dir"
  if [ -n "$redis_pid" ]; then kill "$redis_pid" 2>/dev/null || true; wait "$redis_pid" 2>/dev/null || true; fi
}
cleanup() {
  local pids; pids=$(jobs -p); [ -z "$pids" ] || kill $pids 2>/dev/null || true
  stop_services
  rm -rf "$work"
}
trap cleanup EXIT

find_pg_bin() {
  if [ -n "${NATTER_PG_BIN:-}" ]; then echo "$NATTER_PG_BIN"; return; fi
  local d; d=$(command -v initdb 2>/dev/null || true)
  [ -z "$d" ] || d=$(dirname "$(readlink -f "$d")")
  if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; fi
}

start_postgres() {
  pg_bin=$(find_pg_bin)
  if [ -n "${NATTER_TEST_DATABASE_URL:-}" ]; then
    export NATTER_TEST_PG_ADMIN="$NATTER_TEST_DATABASE_URL"
    echo "PostgreSQL: using NATTER_TEST_DATABASE_URL"
  else
    [ -n "$pg_bin" ] || cannot "no initdb on the PATH or under /usr/lib/postgresql/*/bin: install the PostgreSQL server (Debian: apt-get install postgresql; macOS: brew install postgresql), or set NATTER_TEST_DATABASE_URL"
    if [ "$(id -u)" = 0 ] && ! id -u postgres >/dev/null 2>&1; then
      cannot "running as root needs a 'postgres' user to run PostgreSQL as (Debian's postgresql package creates it), or set NATTER_TEST_DATABASE_URL"
    fi
    pg_dir=$(mktemp -d /tmp/natter-test-pg.XXXXXX)
    chmod 0755 "$pg_dir"
    [ "$(id -u)" != 0 ] || chown postgres: "$pg_dir"
    local port; port=$(free_port)
    as_postgres "$pg_bin/initdb" -D "$pg_dir/data" -U postgres -A trust --no-sync -E UTF8 >"$pg_dir/initdb.log" 2>&1 \
      || { cat "$pg_dir/initdb.log"; cannot "initdb failed"; }
    # fsync off: a test database is thrown away; durability is not under test here
    # (the cluster failure test runs its own PostgreSQL with the defaults)
    as_postgres "$pg_bin/pg_ctl" -D "$pg_dir/data" -l "$pg_dir/server.log" -w -t 60 \
      -o "-p $port -k $pg_dir -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=400" start >/dev/null \
      || { cat "$pg_dir/server.log"; cannot "PostgreSQL did not start"; }
    export NATTER_TEST_PG_ADMIN="postgres://postgres@127.0.0.1:$port/postgres"
    echo "PostgreSQL $("$pg_bin/postgres" --version | awk '{print $3}') of our own on 127.0.0.1:$port"
  fi
  # the node harness takes the server's base URL
  export NATTER_TEST_PG="${NATTER_TEST_PG_ADMIN%/*}"
  [ -z "$pg_bin" ] || export NATTER_PG_BIN="$pg_bin"   # the cluster failure test's own PostgreSQL
}

start_redis() {
  if [ -n "${NATTER_TEST_REDIS_URL:-}" ]; then
    export NATTER_TEST_REDIS="$NATTER_TEST_REDIS_URL"
    echo "Redis: using NATTER_TEST_REDIS_URL"
    return
  fi
  command -v redis-server >/dev/null 2>&1 || cannot "no redis-server on the PATH: install Redis (Debian: apt-get install redis-server; macOS: brew install redis), or set NATTER_TEST_REDIS_URL"
  local port; port=$(free_port)
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --daemonize no --loglevel warning \
    > "$work/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 1 50); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then break; fi
    sleep 0.1
  done
  kill -0 "$redis_pid" 2>/dev/null || { cat "$work/redis.log"; cannot "redis-server did not start"; }
  export NATTER_TEST_REDIS="redis://127.0.0.1:$port"
  echo "Redis of our own on 127.0.0.1:$port"
}

# ---------- tools a fresh machine may lack ----------
ensure_tools() {
  command -v cargo >/dev/null 2>&1 || cannot "no cargo: install Rust (https://rustup.rs)"
  command -v node >/dev/null 2>&1 || cannot "no node: install Node.js 20+"
  command -v python3 >/dev/null 2>&1 || cannot "no python3: install Python 3.11+"
  if ! cargo nextest --version >/dev/null 2>&1; then
    echo "installing cargo-nextest"; cargo install --locked cargo-nextest
  fi
  CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
  if [ ! -x "$CHROMIUM" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "installing Debian's chromium (and an emoji font for the screenshots)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null
    else
      cannot "no Chromium at $CHROMIUM: install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH"
    fi
  fi
  export CHROMIUM_PATH="$CHROMIUM"
  local d
  for d in web tests/node bench/baselines/node-socketio; do
    # (again when the lock file changed since the last install)
    if ! cmp -s "$d/package-lock.json" "$d/node_modules/.natter-installed-lock" 2>/dev/null; then
      (cd "$d" && npm ci --no-audit --no-fund --loglevel=error && cp package-lock.json node_modules/.natter-installed-lock)
    fi
  done
  venv="${NATTER_PY_VENV:-$HOME/.cache/natter-py-venv}"
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/python/requirements.txt
  # the S3-compatible server (moto) the file-store tests start on a free loopback port
  # (tests/s3/server.py); a test that needs S3 fails, not skips, without it
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/s3/requirements.txt
  export NATTER_TEST_S3_PYTHON="$venv/bin/python"
  # schemathesis for the OpenAPI contract run (tests/schemathesis/run.sh)
  "$venv/bin/pip" install -q --disable-pip-version-check -r tests/schemathesis/requirements.txt
}

setup "tools" ensure_tools
setup "services" eval 'start_postgres; start_redis'

# ---------- the suites ----------
suite "web: type-check, unit tests, build" vitest bash -c 'cd web && npm test && npm run build'
suite "rust: fmt" check cargo fmt --all -- --check
limit=2400 suite "rust: clippy" check cargo clippy --workspace --all-targets -- -D warnings
suite "contract: the UI's TypeScript types match the Rust types (scripts/contract.sh --check)" check scripts/contract.sh --check
suite "shape: every source file under 500 lines (scripts/shape.sh)" check scripts/shape.sh
setup "build the natter and conformance binaries" cargo build -p natter-server -p natter-realtime --bins
export NATTER_BIN="$CARGO_TARGET_DIR/debug/natter"
export NATTER_CONFORMANCE_BIN="$CARGO_TARGET_DIR/debug/conformance"

# the five fuzz targets (crates/realtime/tests/fuzz.rs) run 10 s each
export NATTER_FUZZ_SECS="${NATTER_FUZZ_SECS:-10}"
limit=2400 suite "rust: unit and integration tests (SQLite and PostgreSQL), fuzzing, bench smoke runs" nextest \
  cargo nextest run --workspace --no-fail-fast

# The protocol suites run one after another and alone: their tests wait on real
# timings (reconnects, 20 concurrent senders) that a busy 2-core machine can miss.
# Python, the push receiver and schemathesis then run side by side.
suite "socket.io-client engine interop and protocol tests (SQLite)" node bash -c 'cd tests/node && NATTER_TEST_STORE=sqlite npm test'
suite "socket.io-client protocol tests (PostgreSQL)" node bash -c 'cd tests/node && NATTER_TEST_STORE=postgres node --test --test-force-exit --test-timeout=180000 --test-concurrency=2 natter/'
bg_suite "python-socketio interop tests" pytest "$venv/bin/python" -m pytest -q tests/python
bg_suite "web push end to end: a loopback push service verifies VAPID (jose) and decrypts (http_ece)" node \
  bash -c 'cd tests/node && NATTER_TEST_STORE=sqlite node --test --test-force-exit --test-timeout=180000 --test-concurrency=1 push/ && NATTER_TEST_STORE=postgres node --test --test-force-exit --test-timeout=180000 --test-concurrency=1 push/'
bg_suite "schemathesis against /api/openapi.json with a real token (no 5xx, every error in the envelope)" check \
  env SCHEMATHESIS="$venv/bin/schemathesis" tests/schemathesis/run.sh
bg_wait

limit=1500 suite "browser end-to-end tests (Chromium)" node bash -c 'cd web && npm run e2e'

# It starts and restarts real servers on a 2-core machine, so it runs alone and gets
# one retry; a second failure fails the run. Its counts (sent, acked, lost = 0) print.
limit=1200 suite "cluster failure test (3 nodes; kill -9 a node, restart Redis, restart PostgreSQL)" node-last \
  bash -c 'cd tests/node && { npm run test:cluster || { echo "cluster failure test failed once; retrying"; npm run test:cluster; }; }'

# ---------- summary ----------
printf '\n==> summary (%ss in all)\n' $((SECONDS - t0))
for s in "${summary[@]}"; do printf '  %s\n' "$s"; done
echo "tests: $total_pass passed, $total_fail failed"
if [ ${#failed_suites[@]} -gt 0 ]; then
  printf 'FAILED: %s\n' "${failed_suites[@]}"
  exit 1
fi
echo "all tests passed"
