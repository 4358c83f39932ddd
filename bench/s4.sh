#!/usr/bin/env bash
# S4 (durable sends: ack after commit) on SQLite and on PostgreSQL, each on a fresh
# store, and optionally the same without the search index, to see what indexing
# costs the send path. JSON reports and logs in bench/results/s4-<time>/.
#
#   NATTER_SKIP_UI_BUILD=1 cargo build --release -p natter-server -p natter-bench
#   bench/s4.sh                           # sqlite, postgres, then both without search
#   STORES="postgres" SEARCH="with" bench/s4.sh
#
# Environment: STORES (sqlite postgres), SEARCH ("with without": "without" drops the
# search index after the migrations: SQLite's FTS5 triggers and table, PostgreSQL's GIN
# index and generated tsvector column), RATES (default 500,1000,2000,4000,8000,16000),
# ROOMS (100, one sender each, rooms of 10), PG_ADMIN (an admin URL of the PostgreSQL
# to make the fresh databases in; default postgres://postgres@127.0.0.1:5432/postgres).
# Server on CPU 0, generator on CPU 1 (PostgreSQL is not pinned).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
target="${CARGO_TARGET_DIR:-$root/target}"
NATTER="${NATTER_BIN:-$target/release/natter}"
BENCH="${NATTER_BENCH_BIN:-$target/release/natter-bench}"
STORES="${STORES:-sqlite postgres}"
SEARCH="${SEARCH:-with without}"
RATES="${RATES:-500,1000,2000,4000,8000,16000}"
ROOMS="${ROOMS:-100}"
PG_ADMIN="${PG_ADMIN:-postgres://postgres@127.0.0.1:5432/postgres}"
port=3310
out="$root/bench/results/s4-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"
pids=()
dbs=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${dbs[@]}"; do psql -q "$PG_ADMIN" -c "DROP DATABASE IF EXISTS $d" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
wait_port() { for _ in $(seq 1 150); do curl -fs "http://127.0.0.1:$port/healthz" >/dev/null && return 0; sleep 0.2; done; return 1; }

start() { # store data-url
  ( exec env -u REDIS_URL NATTER_RATE_LIMITS=off JWT_SECRET=bench-secret-bench-secret-bench-secret \
      DATABASE_URL="$2" PORT=$port NATTER_BIND=127.0.0.1 RUST_LOG=warn taskset -c 0 "$NATTER" serve ) \
    >> "$out/natter-$1.log" 2>&1 &
  pid=$!; pids+=("$pid")
  wait_port || { echo "natter did not start" >&2; tail "$out/natter-$1.log" >&2; exit 1; }
}
stop() { kill "$pid"; wait "$pid" 2>/dev/null || true; }

echo "date: $(date -u +%FT%TZ)  natter: $(git rev-parse --short HEAD) (+ $(git status --porcelain | wc -l) uncommitted files)" | tee "$out/summary.txt"
for search in $SEARCH; do
  for store in $STORES; do
    label="$store-$search-search"
    case $store in
      sqlite)
        data=$(mktemp -d /tmp/natter-s4.XXXX)
        url="sqlite://$data/natter.db"
        drop() {
          sqlite3 "$data/natter.db" "DROP TRIGGER IF EXISTS messages_fts_insert; DROP TRIGGER IF EXISTS messages_fts_update;
            DROP TRIGGER IF EXISTS messages_fts_delete; DROP TABLE IF EXISTS messages_fts;"
        } ;;
      postgres)
        db="natter_s4_$(date +%s)_$RANDOM"; dbs+=("$db")
        psql -q "$PG_ADMIN" -c "CREATE DATABASE $db" >/dev/null
        url="${PG_ADMIN%/*}/$db"
        drop() { psql -q "$url" -c "DROP INDEX messages_search; ALTER TABLE messages DROP COLUMN search_tsv;" >/dev/null; } ;;
      *) echo "unknown store $store" >&2; exit 1 ;;
    esac
    start "$store" "$url"
    if [ "$search" = without ]; then
      # migrated by the first start; the index goes while no one writes
      stop; drop; start "$store" "$url"
    fi
    echo "== $label" | tee -a "$out/summary.txt"
    "$BENCH" s4-durable --url "http://127.0.0.1:$port" --server-pid "$pid" --pin 1 --rooms "$ROOMS" \
      --room-size 10 --rates "$RATES" --duration 400 --label "natter-$label" --out "$out/$label.json" \
      > /dev/null 2> >(tee -a "$out/summary.txt" >&2)
    stop
  done
done
echo "results in $out"
