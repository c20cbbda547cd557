#!/usr/bin/env bash
# make lint: clang-format check, ADSM layer check, php -l, and clang-tidy
# (.clang-tidy, every warning an error) on every translation unit of the
# project in BUILD_DIR's compile_commands.json.
#
# Usage: scripts/lint.sh [BUILD_DIR]     env: JOBS (parallel clang-tidy runs, default nproc)
# Exit 0 when everything is clean; 1 with each finding printed (file:line and
# the check's name) otherwise.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=$(cd "${1:-$ROOT/build}" 2>/dev/null && pwd) || { echo "lint: no build dir ${1:-build}: run make build-all"; exit 1; }
JOBS=${JOBS:-$(nproc)}
cd "$ROOT" || exit 2
status=0

echo "== clang-format"
scripts/format-check.sh || status=1

echo "== layer check"
scripts/layer-check.sh "$ROOT" || status=1

echo "== php -l"
while IFS= read -r f; do
  php -l "$f" >/dev/null || status=1
done < <(git ls-files 'apps/php-monolith/*.php')

echo "== clang-tidy"
db=$BUILD_DIR/compile_commands.json
[ -f "$db" ] || { echo "lint: no $db: run make build-all"; exit 1; }
# Our translation units only: sources under apps/, packages/ and bench/ of
# this checkout. Sources CMake generates into the build dir (embedded
# dashboard, CQL schema) and anything outside the tree are not ours to lint.
mapfile -t units < <(python3 - "$db" "$ROOT" <<'EOF'
import json, os, sys
db, root = sys.argv[1], os.path.realpath(sys.argv[2])
seen = set()
for e in json.load(open(db)):
    path = os.path.realpath(os.path.join(e["directory"], e["file"]))
    rel = os.path.relpath(path, root)
    if rel.split(os.sep)[0] in ("apps", "packages", "bench") and rel not in seen:
        seen.add(rel)
        print(rel)
EOF
)
[ ${#units[@]} -gt 0 ] || { echo "lint: $db lists no source under apps/ packages/ bench/"; exit 1; }
echo "clang-tidy: ${#units[@]} translation units, $JOBS at a time"
# One clang-tidy per unit; a unit's output is printed whole, and only when
# clang-tidy fails on it (WarningsAsErrors '*' turns any finding into a
# failure). Clang's "N warnings generated" tallies are suppressed-warning
# counts from system headers, not findings.
tidy_one() {
  local out
  out=$(clang-tidy -p "$1" --quiet --extra-arg=-Wno-unknown-warning-option "$2" 2>&1) && return 0
  printf '%s\n' "$out" | grep -v -E '^[0-9]+ warnings? (and [0-9]+ errors? )?generated\.$'
  return 1
}
export -f tidy_one
printf '%s\n' "${units[@]}" | xargs -r -P "$JOBS" -I{} bash -c 'tidy_one "$0" "$1"' "$BUILD_DIR" {} ||
  status=1

if [ $status -eq 0 ]; then echo "lint: clean"; else echo "lint: FAILED (findings above)"; fi
exit $status
