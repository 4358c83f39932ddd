#!/usr/bin/env bash
# Natter against the brief's own stack, side by side in one run: seed-node (socket.io +
# pg + Redis adapter) on one and on two nodes, Natter on SQLite, on PostgreSQL, and on
# PostgreSQL with two nodes and Redis, all driven by the peers' independent load
# generator (socket.io-client), one rate after another. Writes results.jsonl and a
# markdown table (bench/compare-table.mjs) into the results folder.
#
#   cp -r ../shared/peers /tmp/peers && (cd /tmp/peers && ./setup-services.sh &&
#     (cd seed-node && npm ci) && (cd loadgen && npm ci))
#   NATTER_SKIP_UI_BUILD=1 cargo build --release -p natter-server
#   bench/compare.sh                       # every system at 200 1000 2000 5000 10000 msg/s
#   RATES="200 1000" SYSTEMS="seed natter-pg" bench/compare.sh
#
# Environment: PEERS (the peers copy, default /tmp/peers), NATTER_BIN (default the
# release build), RATES, SYSTEMS, DURATION (send phase, s; default 10), USERS/ROOMS/
# MEMBERS (200/20/10, the peers' scenario), PINNED=1 (default: every server process on
# CPU 0, so one node and two nodes get the same core; PostgreSQL, Redis and the
# generator are not pinned). PostgreSQL is the peers' `chatbench` database, emptied
# before each step; SQLite is a fresh temp folder per step.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
PEERS="${PEERS:-/tmp/peers}"
NATTER_BIN="${NATTER_BIN:-${CARGO_TARGET_DIR:-$root/target}/release/natter}"
RATES="${RATES:-200 1000 2000 5000 10000}"
SYSTEMS="${SYSTEMS:-seed seed-2 natter-sqlite natter-pg natter-pg-2}"
DURATION="${DURATION:-10}" USERS="${USERS:-200}" ROOMS="${ROOMS:-20}" MEMBERS="${MEMBERS:-10}"
export DATABASE_URL="${DATABASE_URL:-postgresql://chatbench:chatbench@127.0.0.1:5432/chatbench}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
export JWT_SECRET="${JWT_SECRET:-bench-secret-change-me-0123456789abcdef}"
[ -x "$NATTER_BIN" ] || { echo "no natter binary at $NATTER_BIN" >&2; exit 1; }
[ -d "$PEERS/loadgen/node_modules" ] || { echo "no peers copy with npm ci done at $PEERS (see the header)" >&2; exit 1; }
out="${OUT_DIR:-$root/bench/results}/compare-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out/logs"
jsonl="$out/results.jsonl"
pin=(); [ "${PINNED:-1}" = 1 ] && pin=(taskset -c 0)
vapid=$("$NATTER_BIN" vapid-key | sed -n 's/^NATTER_VAPID_PRIVATE_KEY=//p')

pids=()
stop() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
trap stop EXIT
wait_port() {
  for _ in $(seq 150); do
    curl -s -o /dev/null "http://127.0.0.1:$1/socket.io/?EIO=4&transport=polling" && return 0
    sleep 0.2
  done
  return 1
}
empty_pg() { psql -q "$DATABASE_URL" -c 'DROP SCHEMA public CASCADE; CREATE SCHEMA public;' >/dev/null; }

# start SYSTEM → pids, urls, prov
start() {
  local sys=$1 n=1 port
  case $sys in *-2) n=2 ;; esac
  urls=()
  case $sys in
    seed*)
      (cd "$PEERS" && node seed-node/db-init.js >/dev/null)
      for i in $(seq "$n"); do
        port=$((3000 + i))
        PORT=$port "${pin[@]}" "$PEERS/seed-node/start.sh" > "$out/logs/$sys-$port.log" 2>&1 &
        pids+=($!); urls+=("http://127.0.0.1:$port")
      done
      prov=(--provision seed) ;;
    natter-pg*)
      empty_pg
      for i in $(seq "$n"); do
        port=$((3000 + i))
        # one node runs without Redis (as the peers' natter-pg); two share it
        local redis=(-u REDIS_URL); [ "$n" = 2 ] && redis=()
        ( exec env "${redis[@]}" PORT=$port NATTER_RATE_LIMITS=off NATTER_VAPID_PRIVATE_KEY="$vapid" \
            NATTER_VAPID_SUBJECT=mailto:bench@localhost "${pin[@]}" "$NATTER_BIN" serve ) \
          > "$out/logs/$sys-$port.log" 2>&1 &
        pids+=($!); urls+=("http://127.0.0.1:$port")
        # the first node runs the migrations; the second starts on a migrated schema
        [ "$i" = 1 ] && { wait_port $port || { echo "$sys did not start" >&2; tail "$out/logs/$sys-$port.log" >&2; exit 1; }; }
      done
      prov=(--provision ./loadgen/provision-natter.js --api-url "${urls[0]}") ;;
    natter-sqlite)
      local d; d=$(mktemp -d)
      ( exec env -u DATABASE_URL -u REDIS_URL PORT=3001 NATTER_RATE_LIMITS=off NATTER_DATA_DIR="$d" \
          "${pin[@]}" "$NATTER_BIN" serve ) > "$out/logs/$sys-3001.log" 2>&1 &
      pids+=($!); urls+=("http://127.0.0.1:3001")
      prov=(--provision ./loadgen/provision-natter.js --api-url "${urls[0]}") ;;
    *) echo "unknown system $sys" >&2; exit 1 ;;
  esac
  for u in "${urls[@]}"; do
    wait_port "${u##*:}" || { echo "$sys did not start on $u" >&2; exit 1; }
  done
  sleep 1
}

{
  echo "date: $(date -u +%FT%TZ)  natter: $(git rev-parse --short HEAD) (+ $(git status --porcelain | wc -l) uncommitted files)"
  echo "systems: $SYSTEMS  rates: $RATES  duration: ${DURATION}s  users: $USERS  rooms: $ROOMS x $MEMBERS  pinned: ${PINNED:-1}"
} | tee "$out/summary.txt"
for rate in $RATES; do
  for sys in $SYSTEMS; do
    start "$sys"
    echo "== $sys at $rate msg/s" | tee -a "$out/summary.txt"
    ( cd "$PEERS" && node loadgen/run.js --url "$(IFS=,; echo "${urls[*]}")" --users "$USERS" --rooms "$ROOMS" \
        --members-per-room "$MEMBERS" --rate "$rate" --duration "$DURATION" \
        --server-pid "$(IFS=,; echo "${pids[*]}")" "${prov[@]}" --label "$sys-$rate" --json-out "$jsonl" \
        > /dev/null 2>> "$out/summary.txt" ) || echo "(run exited $?)" | tee -a "$out/summary.txt"
    stop
  done
done
node bench/compare-table.mjs "$jsonl" | tee "$out/table.md"
echo "results in $out"
