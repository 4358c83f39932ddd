#!/usr/bin/env bash
# The web UI's TypeScript types of the wire contract are generated from the Rust types
# of natter-core (objects, event payloads, error codes: ts-rs; event names: a test of
# events/) and of the REST bodies and acks of natter-server into web/src/api/generated/,
# with docs/EVENTS.md (every event and its payload, from the same tables), all committed.
#
#   scripts/contract.sh           # regenerate web/src/api/generated/
#   scripts/contract.sh --check   # regenerate into a temp dir; fail on any difference (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
out=web/src/api/generated
generate() { # DIR EVENTS_DOC
  TS_RS_EXPORT_DIR="$1" NATTER_EVENTS_DOC="$2" cargo test -q -p natter-core --features ts --lib export_bindings >/dev/null
  # REST request and response bodies (they use the core types above)
  TS_RS_EXPORT_DIR="$1" cargo test -q -p natter-server --features ts --lib export_bindings >/dev/null
}
if [ "${1:-}" = --check ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/natter-contract.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  mkdir "$tmp/ts"
  generate "$tmp/ts" "$tmp/EVENTS.md"
  if ! diff -ru "$out" "$tmp/ts" || ! diff -u docs/EVENTS.md "$tmp/EVENTS.md"; then
    echo "contract: $out or docs/EVENTS.md differs from the Rust types: run scripts/contract.sh and commit it" >&2
    exit 1
  fi
  echo "contract: $out and docs/EVENTS.md match the Rust types ($(ls "$tmp/ts" | wc -l) files)"
else
  rm -rf "$out"
  generate "$PWD/$out" "$PWD/docs/EVENTS.md"
  echo "contract: wrote $out ($(ls "$out" | wc -l) files) and docs/EVENTS.md"
fi
