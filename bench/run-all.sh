#!/usr/bin/env bash
# make bench: runs every benchmark under bench/*/run.sh in turn. Each one
# starts its own servers on loopback, pins them with taskset, runs for a
# bounded time, prints its figures and appends a dated section to
# bench/RESULTS.md.  BENCH_ONLY="legacy writer" limits the set.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
for script in "$ROOT"/bench/*/run.sh; do
  name=$(basename "$(dirname "$script")")
  if [ -n "${BENCH_ONLY:-}" ] && [[ " $BENCH_ONLY " != *" $name "* ]]; then continue; fi
  echo "=== bench: $name"
  "$script"
done
