#!/usr/bin/env bash
# Schemathesis against a real natter: a fresh SQLite store on a free port, a
# registered user's token, every operation of /api/openapi.json, with a bounded
# number of examples and time. Fails on any 5xx and on any error answer that is
# not the `{error: {code, message}}` envelope (hooks.py).
#
# Environment:
#   NATTER_BIN        the natter binary (default $CARGO_TARGET_DIR/debug/natter)
#   SCHEMATHESIS      the schemathesis executable (default: on PATH)
#   ST_MAX_EXAMPLES   examples per operation and phase (default 40)
#   ST_MAX_TIME       seconds per run (default 120)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
bin="${NATTER_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/natter}"
st="${SCHEMATHESIS:-schemathesis}"
[[ -x "$bin" ]] || { echo "no natter binary at $bin (build it: cargo build -p natter-server)" >&2; exit 1; }

dir="$(mktemp -d "${TMPDIR:-/tmp}/natter-st.XXXXXX")"
pid=""
cleanup() {
  local rc=$?
  if [[ $rc -ne 0 && -f "$dir/natter.log" ]]; then
    echo "--- natter log (tail) ---"; tail -n 50 "$dir/natter.log"
    kill -0 "$pid" 2>/dev/null || echo "--- natter is not running any more"
  fi
  [[ -n "$pid" ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$dir"
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
NATTER_DATA_DIR="$dir" DATABASE_URL="sqlite://$dir/natter.db" JWT_SECRET="schemathesis-secret-$RANDOM$RANDOM-0123456789" \
  NATTER_RATE_LIMITS=off RUST_LOG="${RUST_LOG:-warn}" \
  "$bin" serve --port "$port" --bind 127.0.0.1 >"$dir/natter.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  curl -sf "$base/healthz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { echo "natter exited:"; cat "$dir/natter.log"; exit 1; }
  sleep 0.2
done

# A user with a room and a message, so some generated ids hit real things.
register() {
  curl -sf "$base/api/auth/register" -H 'content-type: application/json' \
    -d "{\"email\":\"$1@example.com\",\"username\":\"$1\",\"name\":\"$1\",\"password\":\"password123\"}" |
    python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
token="$(register st_user)"
auth=(-H "authorization: Bearer $token" -H 'content-type: application/json')
curl -sf "$base/api/rooms" "${auth[@]}" -d '{"name":"general"}' >/dev/null
curl -sf "$base/api/messages" "${auth[@]}" -d '{"roomId":"1","content":"hello"}' >/dev/null
register st_other >/dev/null

common=(
  --checks not_a_server_error,error_envelope
  --max-examples "${ST_MAX_EXAMPLES:-40}"
  --max-time "${ST_MAX_TIME:-120}"
  --phases examples,coverage,fuzzing
  --generation-database none
  --request-timeout 10
  --no-color
  ${ST_SEED:+--seed "$ST_SEED"}
)
export SCHEMATHESIS_HOOKS=hooks
# schemathesis keeps a cache (.schemathesis/) in its working directory: not the repo's
cd "$dir"
export PYTHONPATH="$here${PYTHONPATH:+:$PYTHONPATH}"

# Everything but the calls that end the session (they would sign the run out).
status=0
"$st" run "$base/api/openapi.json" --url "$base" -H "Authorization: Bearer $token" "${common[@]}" \
  --exclude-path-regex '^/api/auth/(logout|logout-all|password)$' || status=$?
# Those, each with a session of its own (password first: it keeps its session).
for op in password logout logout-all; do
  tok="$(curl -sf "$base/api/auth/login" -H 'content-type: application/json' \
    -d '{"login":"st_other","password":"password123"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
  "$st" run "$base/api/openapi.json" --url "$base" -H "Authorization: Bearer $tok" "${common[@]}" \
    --max-time "${ST_MAX_TIME_AUTH:-20}" --include-path "/api/auth/$op" || status=$?
done
exit "$status"
