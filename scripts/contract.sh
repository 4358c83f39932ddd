#!/usr/bin/env bash
# The web UI's TypeScript types of the wire contract are generated from the Rust types
# of natter-core (objects, event payloads, error codes: ts-rs; event names: a test of
# events.rs) and of the REST bodies of natter-server's http/ into web/src/api/generated/,
# and committed.
#
#   scripts/contract.sh           # regenerate web/src/api/generated/
#   scripts/contract.sh --check   # regenerate into a temp dir; fail on any difference (CI)
set -euo pipefail
cd "$(dirname "$0")/.."
out=web/src/api/generated
generate() { # DIR
  TS_RS_EXPORT_DIR="$1" cargo test -q -p natter-core --features ts --lib export_bindings >/dev/null
  # REST request and response bodies (they use the core types above)
  TS_RS_EXPORT_DIR="$1" cargo test -q -p natter-server --features ts --lib export_bindings >/dev/null
}
if [ "${1:-}" = --check ]; then
  tmp=$(mktemp -d "${TMPDIR:-/tmp}/natter-contract.XXXXXX")
  trap 'rm -rf "$tmp"' EXIT
  generate "$tmp"
  if ! diff -ru "$out" "$tmp"; then
    echo "contract: $out differs from the Rust types: run scripts/contract.sh and commit it" >&2
    exit 1
  fi
  echo "contract: $out matches the Rust types ($(ls "$tmp" | wc -l) files)"
else
  rm -rf "$out"
  generate "$PWD/$out"
  echo "contract: wrote $out ($(ls "$out" | wc -l) files)"
fi
