#!/usr/bin/env bash
# S7 (message search, issue 10) on SQLite and on PostgreSQL, each on a fresh store,
# with a release build:
#   NATTER_SKIP_UI_BUILD=1 cargo build --release -p natter-server -p natter-bench
#   bench/s7.sh                                  # results in bench/results/s7-<utc time>/
#   STORES=sqlite S7_MESSAGES=100000 bench/s7.sh # smaller, one store
# Env: NATTER / BENCH (binaries), PG (server URL without database), OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
T="${CARGO_TARGET_DIR:-target}"
NATTER="${NATTER:-$T/release/natter}"
BENCH="${BENCH:-$T/release/natter-bench}"
out="${OUT:-bench/results/s7-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
MESSAGES="${S7_MESSAGES:-1000000}"; ROOMS="${S7_ROOMS:-1000}"; MEMBER="${S7_MEMBER_ROOMS:-50}"; QUERIES="${S7_QUERIES:-300}"
STORES="${STORES:-sqlite postgres}"
PG="${PG:-postgres://postgres@127.0.0.1:5432}"

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 1 300); do curl -fs "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.2; done; echo "server on $1 did not start" >&2; return 1; }

for store in $STORES; do
  data=$(mktemp -d /tmp/natter-s7.XXXX)
  name=""
  if [ "$store" = sqlite ]; then
    db="sqlite://$data/natter.db"
  else
    name="natter_s7_$(date +%s)_$RANDOM"
    psql "$PG/postgres" -qc "CREATE DATABASE $name"
    db="$PG/$name"
  fi
  port=$(free_port)
  NATTER_RATE_LIMITS=off JWT_SECRET=bench-secret-bench-secret-bench-secret NATTER_DATA_DIR="$data" \
    DATABASE_URL="$db" PORT="$port" NATTER_BIND=127.0.0.1 RUST_LOG=info "$NATTER" serve > "$out/$store-natter.log" 2>&1 &
  pid=$!
  wait_port "$port"
  echo "== s7-search on $store" >&2
  "$BENCH" s7-search --url "http://127.0.0.1:$port" --server-pid "$pid" --database-url "$db" \
    --messages "$MESSAGES" --rooms "$ROOMS" --member-rooms "$MEMBER" --queries "$QUERIES" --duration 1800 \
    --label "natter-$store" --out "$out/$store-s7-search.json" >/dev/null 2> >(tee "$out/$store-s7-search.log" >&2) \
    || echo "!! s7-search on $store failed" >&2
  du -sh "$data" >> "$out/sizes.txt" || true
  kill "$pid"; wait "$pid" 2>/dev/null || true
  rm -rf "$data"
  if [ -n "$name" ]; then psql "$PG/postgres" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)"; fi
done
echo "results in $out" >&2
