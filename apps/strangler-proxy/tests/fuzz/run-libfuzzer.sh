#!/usr/bin/env bash
# Builds the request-path fuzzer with clang + libFuzzer (ASan, UBSan) in
# WORK_DIR and runs it for SECONDS on a scratch copy of the seed corpus.
#   run-libfuzzer.sh WORK_DIR [SECONDS] [FUZZER_BINARY]
# With FUZZER_BINARY (main build already made with clang and FICUS_FUZZ=ON)
# nothing is built. Exit 0: no crash, leak or invariant violation found.
# A finding leaves its input in WORK_DIR/crash-* (replay it with the binary).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${1:?usage: run-libfuzzer.sh WORK_DIR [SECONDS] [FUZZER_BINARY]}
SECS=${2:-20}
BIN=${3:-}
mkdir -p "$WORK"
if [ -z "$BIN" ]; then
  command -v clang++ >/dev/null || { echo "run-libfuzzer: clang++ not installed (scripts/install-deps.sh build)" >&2; exit 1; }
  if [ ! -f "$WORK/build/build.ninja" ]; then
    cmake -S "$HERE" -B "$WORK/build" -G Ninja -DCMAKE_CXX_COMPILER=clang++ \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$WORK/configure.log" 2>&1 \
      || { cat "$WORK/configure.log" >&2; exit 1; }
  fi
  nice cmake --build "$WORK/build" >"$WORK/build.log" 2>&1 || { tail -40 "$WORK/build.log" >&2; exit 1; }
  BIN=$WORK/build/ficus_proxy_fuzz
fi
mkdir -p "$WORK/corpus"
# -rss_limit_mb: the machine is shared; -timeout: one input must not hang.
"$BIN" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
  -artifact_prefix="$WORK/" "$WORK/corpus" "$HERE/corpus" 2>"$WORK/fuzz.log" \
  || { tail -60 "$WORK/fuzz.log" >&2; exit 1; }
grep -E "^stat::number_of_executed_units|^stat::new_units_added|^#[0-9]+.*DONE" "$WORK/fuzz.log" || tail -5 "$WORK/fuzz.log"
echo "run-libfuzzer: no finding in ${SECS}s"
