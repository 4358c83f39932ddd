#!/usr/bin/env bash
# Starts a 3-node Natter cluster + nginx on loopback, against the local PostgreSQL
# and Redis, and stops everything on Ctrl-C. See docs/OPERATIONS.md.
#
#   scripts/cluster.sh            # http://127.0.0.1:8080 (nginx) → nodes on 3001..3003
#
# Environment (all optional):
#   NATTER_BIN     the natter binary (default: target/release/natter, built if missing)
#   DATABASE_URL   default postgres://postgres@127.0.0.1:5432/natter_cluster (created if missing)
#   REDIS_URL      default redis://127.0.0.1:6379
#   JWT_SECRET     default: a random one for this run
#   NATTER_VAPID_PRIVATE_KEY / NATTER_VAPID_SUBJECT   Web Push key for every node
#                  (default: a new one for this run, from `natter vapid-key`)
#   NODES          number of nodes (default 3), on ports BASE_PORT+1…
#   BASE_PORT      default 3000;  LB_PORT: nginx's port, default 8080
#   NGINX          the nginx binary (default: nginx on PATH; `apt-get install nginx` if missing)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
NODES="${NODES:-3}"
BASE_PORT="${BASE_PORT:-3000}"
LB_PORT="${LB_PORT:-8080}"
DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/natter_cluster}"
REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}"
JWT_SECRET="${JWT_SECRET:-$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')}"
NGINX="${NGINX:-$(command -v nginx || true)}"
if [[ -z "$NGINX" && -x /usr/sbin/nginx ]]; then NGINX=/usr/sbin/nginx; fi

if [[ -z "${NATTER_BIN:-}" ]]; then
  NATTER_BIN="${CARGO_TARGET_DIR:-$root/target}/release/natter"
  if [[ ! -x "$NATTER_BIN" ]]; then
    echo "building natter (release)…"
    (cd "$root" && cargo build --release -p natter-server)
  fi
fi
[[ -x "$NATTER_BIN" ]] || { echo "no natter binary at $NATTER_BIN" >&2; exit 1; }
VAPID_KEY="${NATTER_VAPID_PRIVATE_KEY:-$("$NATTER_BIN" vapid-key | sed -n 's/^NATTER_VAPID_PRIVATE_KEY=//p')}"
VAPID_SUBJECT="${NATTER_VAPID_SUBJECT:-mailto:admin@localhost}"
[[ -n "$NGINX" ]] || { echo "nginx not found: apt-get install nginx (or set NGINX=)" >&2; exit 1; }
command -v redis-cli >/dev/null && { redis-cli -u "$REDIS_URL" ping >/dev/null || { echo "Redis at $REDIS_URL does not answer" >&2; exit 1; }; }

# the database (PostgreSQL): create it when missing
db="${DATABASE_URL##*/}"; db="${db%%\?*}"; server="${DATABASE_URL%/*}"
if command -v psql >/dev/null; then
  if ! psql "$server/postgres" -tAc "SELECT 1 FROM pg_database WHERE datname = '$db'" | grep -q 1; then
    echo "creating database $db"
    psql "$server/postgres" -qc "CREATE DATABASE \"$db\""
  fi
fi

run="$(mktemp -d "${TMPDIR:-/tmp}/natter-cluster.XXXXXX")"
chmod 755 "$run"  # nginx workers run as another user
pids=()
stop() {
  trap - INT TERM EXIT
  echo; echo "stopping…"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$run"
  echo "stopped"
  exit 0
}
trap stop INT TERM EXIT

# the nodes (the first one migrates the database; the others start once it is ready)
upstreams=""
for i in $(seq 1 "$NODES"); do
  port=$((BASE_PORT + i))
  mkdir -p "$run/node$i"
  DATABASE_URL="$DATABASE_URL" REDIS_URL="$REDIS_URL" JWT_SECRET="$JWT_SECRET" \
    NATTER_VAPID_PRIVATE_KEY="$VAPID_KEY" NATTER_VAPID_SUBJECT="$VAPID_SUBJECT" \
    NATTER_DATA_DIR="$run/node$i" NATTER_TRUSTED_PROXIES=127.0.0.1 \
    "$NATTER_BIN" serve --port "$port" --bind 127.0.0.1 >"$run/node$i.log" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 150); do
    curl -fs "http://127.0.0.1:$port/readyz" >/dev/null 2>&1 && break
    kill -0 "${pids[-1]}" 2>/dev/null || { echo "node $i exited:"; cat "$run/node$i.log"; exit 1; }
    sleep 0.2
  done
  curl -fs "http://127.0.0.1:$port/readyz" >/dev/null || { echo "node $i not ready:"; cat "$run/node$i.log"; exit 1; }
  echo "node $i: http://127.0.0.1:$port  (log: $run/node$i.log)"
  upstreams+="        server 127.0.0.1:$port max_fails=1 fail_timeout=5s;\n"
done

# nginx, from deploy/nginx.conf with this run's ports and paths
awk -v run="$run" -v lb="$LB_PORT" -v ups="$upstreams" '
  /^#/ { print; next }
  /# cluster.sh/ && /server 127.0.0.1:/ { if (!done) { printf "%s", ups; done = 1 } next }
  /# cluster.sh/ && /listen/ { print "        listen 127.0.0.1:" lb ";"; next }
  /# cluster.sh/ { gsub("/tmp/natter-nginx", run "/nginx"); sub(/ *# cluster.sh/, ""); print; next }
  { print }
' "$root/deploy/nginx.conf" | sed 's/\\n/\n/g' >"$run/nginx.conf"
"$NGINX" -t -q -c "$run/nginx.conf" -p "$run" -e "$run/nginx.err"
"$NGINX" -c "$run/nginx.conf" -p "$run" -e "$run/nginx.err" -g 'daemon off;' &
pids+=("$!")
for _ in $(seq 1 50); do curl -fs "http://127.0.0.1:$LB_PORT/readyz" >/dev/null 2>&1 && break; sleep 0.1; done
curl -fs "http://127.0.0.1:$LB_PORT/readyz" >/dev/null || { echo "nginx does not answer on $LB_PORT"; cat "$run/nginx.err"; exit 1; }

echo
echo "Natter cluster: http://127.0.0.1:$LB_PORT  ($NODES nodes, $DATABASE_URL, $REDIS_URL)"
echo "metrics: curl http://127.0.0.1:$((BASE_PORT + 1))/metrics      Ctrl-C stops everything"
wait -n "${pids[@]}" || true
echo "a process exited"
