#!/usr/bin/env bash
# Every source file of Natter stays under 500 lines (docs/ARCHITECTURE.md, "Shape"):
# a file that grows past it is split by concern. Generated files (the UI's contract
# types, snapshots, lock files) and data are not counted.
set -euo pipefail
cd "$(dirname "$0")/.."
limit=${1:-500}
over=$(git ls-files -- '*.rs' '*.ts' '*.tsx' '*.mjs' '*.js' '*.css' '*.sh' '*.py' \
  | grep -v -E '^web/src/api/generated/|/snapshots/' \
  | while read -r f; do [ -f "$f" ] && n=$(wc -l < "$f") && [ "$n" -ge "$limit" ] && echo "$n $f"; done || true)
if [ -n "$over" ]; then
  echo "shape: these files have $limit lines or more; split them by concern:" >&2
  echo "$over" | sort -rn >&2
  exit 1
fi
echo "shape: every source file is under $limit lines"
