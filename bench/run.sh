#!/usr/bin/env bash
# One benchmark run: Natter and the Node.js socket.io baseline, same scenarios,
# same sizes, same machine, one after the other. The server is pinned to CPU 0
# and the generators to CPU 1 (taskset) when the machine has 2+ CPUs.
#
#   bench/run.sh [results-dir]          # sizes below; override with env
#   SMALL=1 bench/run.sh                # a quicker, smaller run
#   SMOKE=1 bench/run.sh                # seconds-long correctness run of the script
#                                       # itself (natter-bench --smoke; CI runs it)
#
# Needs: release builds of `natter` and `natter-bench`
#   NATTER_SKIP_UI_BUILD=1 cargo build --release -p natter-server -p natter-bench
# and `npm ci` in bench/baselines/node-socketio. Every load is bounded in time;
# servers started here are stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
NATTER="${NATTER_BIN:-$target/release/natter}"
BENCH="${NATTER_BENCH_BIN:-$target/release/natter-bench}"
out="${1:-$root/bench/results/$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
port_natter="${PORT_NATTER:-3300}"
port_node="${PORT_NODE:-3301}"

S1_CONNS="${S1_CONNS:-10000}"; S1_PER_USER="${S1_PER_USER:-5}"
S3_CONNS="${S3_CONNS:-1000}"; S3_STEP_SECS="${S3_STEP_SECS:-4}"
S4_ROOMS="${S4_ROOMS:-100}"; S4_RATES="${S4_RATES:-500,1000,2000,4000,8000,16000}"
S6_MESSAGES="${S6_MESSAGES:-10000000}"; S6_ROOMS="${S6_ROOMS:-10000}"
S8_CLIENTS="${S8_CLIENTS:-1000}"; S8_SECS="${S8_SECS:-45}"
if [ -n "${SMALL:-}" ]; then
  S1_CONNS=2000; S1_PER_USER=10; S3_CONNS=1000; S4_RATES=500,1000,2000,4000
  S6_MESSAGES=1000000; S6_ROOMS=1000; S8_CLIENTS=500; S8_SECS=30
fi

smoke=(); [ -n "${SMOKE:-}" ] && smoke=(--smoke)

if [ "$(nproc)" -ge 2 ]; then srv_pin=(taskset -c 0); gen_pin=(--pin 1); else srv_pin=(); gen_pin=(); fi

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

wait_port() { for _ in $(seq 1 100); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.2; done; echo "server on $1 did not start" >&2; return 1; }

{
  echo "date: $(date -u +%FT%TZ)"
  echo "nproc: $(nproc)"; free -h | sed -n 2p; uname -r
  echo "natter: $(git rev-parse --short HEAD 2>/dev/null) (+ uncommitted: $(git status --porcelain | wc -l) files)"
  echo "node: $(node --version)"
} > "$out/machine.txt"

ONLY="${ONLY:-s1-idle s3-fanout s4-durable s6-history s8-jitter}"   # scenarios to run
failed=()
run() { # label scenario args…
  local label=$1 scen=$2; shift 2
  case " $ONLY " in *" $scen "*) ;; *) return 0 ;; esac
  echo "== $label $scen" >&2
  "$BENCH" "$scen" --label "$label" "${gen_pin[@]}" "${smoke[@]}" --out "$out/$label-$scen.json" "$@" >/dev/null 2> >(tee "$out/$label-$scen.log" >&2) \
    || { echo "!! $label $scen failed" >&2; failed+=("$label $scen"); }
}

# ---------------- Natter (SQLite, embedded) ----------------
data=$(mktemp -d /tmp/natter-bench-data.XXXX)
start_natter() {
  NATTER_RATE_LIMITS=off JWT_SECRET=bench-secret-bench-secret-bench-secret NATTER_DATA_DIR="$data" \
    PORT=$port_natter NATTER_BIND=127.0.0.1 RUST_LOG=warn "${srv_pin[@]}" "$NATTER" serve >> "$out/natter.log" 2>&1 &
  pids+=($!); npid=$!
  wait_port "$port_natter"
}
start_natter
u="http://127.0.0.1:$port_natter"
# Registration hashes passwords (argon2id): the allocator keeps that memory, so
# S1 provisions first, then restarts the server and measures a clean process.
"$BENCH" s1-idle --url "$u" --conns "$S1_CONNS" --conns-per-user "$S1_PER_USER" --provision-only --save-provision "$out/natter-users.json" "${smoke[@]}" >/dev/null
kill "$npid"; wait "$npid" 2>/dev/null || true
start_natter
run natter s1-idle --url "$u" --server-pid "$npid" --conns "$S1_CONNS" --conns-per-user "$S1_PER_USER" --provision-file "$out/natter-users.json" --duration 900
run natter s3-fanout --url "$u" --server-pid "$npid" --conns "$S3_CONNS" --step-secs "$S3_STEP_SECS" --reuse-users "$out/natter-users.json" --duration 600
run natter s4-durable --url "$u" --server-pid "$npid" --rooms "$S4_ROOMS" --rates "$S4_RATES" --reuse-users "$out/natter-users.json" --duration 300
run natter s8-jitter --url "$u" --server-pid "$npid" --clients "$S8_CLIENTS" --run-secs "$S8_SECS" --reuse-users "$out/natter-users.json" --duration 300
run natter s6-history --url "$u" --server-pid "$npid" --messages "$S6_MESSAGES" --rooms "$S6_ROOMS" --database-url "sqlite://$data/natter.db" --reuse-users "$out/natter-users.json" --duration 900
kill "$npid"; wait "$npid" 2>/dev/null || true
du -sh "$data" >> "$out/machine.txt"; rm -rf "$data"

# ---------------- Node.js socket.io baseline (no database) ----------------
( cd bench/baselines/node-socketio && [ -d node_modules ] || npm ci --no-audit --no-fund )
PORT=$port_node "${srv_pin[@]}" node bench/baselines/node-socketio/server.js > "$out/node.log" 2>&1 &
pids+=($!); jpid=$!
wait_port "$port_node"
u="http://127.0.0.1:$port_node"
run node-socketio s1-idle --url "$u" --server-pid "$jpid" --conns "$S1_CONNS" --conns-per-user "$S1_PER_USER" --duration 900
run node-socketio s3-fanout --url "$u" --server-pid "$jpid" --conns "$S3_CONNS" --step-secs "$S3_STEP_SECS" --duration 600
run node-socketio s4-durable --url "$u" --server-pid "$jpid" --rooms "$S4_ROOMS" --rates "$S4_RATES" --duration 300
run node-socketio s8-jitter --url "$u" --server-pid "$jpid" --clients "$S8_CLIENTS" --run-secs "$S8_SECS" --duration 300
echo "results in $out" >&2
if [ ${#failed[@]} -gt 0 ]; then
  printf '!! failed: %s\n' "${failed[@]}" >&2
  exit 1
fi
