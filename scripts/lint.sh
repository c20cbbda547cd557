#!/usr/bin/env bash
# make lint: clang-format check, ADSM layer check, clang-tidy on every C++
# source of the project (compile_commands.json from BUILD_DIR).
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD_DIR=${1:-$ROOT/build}
cd "$ROOT" || exit 2
status=0

echo "== clang-format"
bad=$(git ls-files '*.cc' '*.h' | xargs -r clang-format --dry-run 2>&1 | grep -c 'warning:' || true)
if [ "$bad" != "0" ]; then
  git ls-files '*.cc' '*.h' | xargs -r clang-format --dry-run 2>&1 | grep 'warning:' | cut -d: -f1 | sort -u | sed 's/^/  needs make fmt: /'
  status=1
fi

echo "== layer check"
scripts/layer-check.sh "$ROOT" || status=1

echo "== php -l"
for f in $(git ls-files 'apps/php-monolith/*.php'); do
  php -l "$f" >/dev/null || status=1
done

echo "== clang-tidy"
[ -f "$BUILD_DIR/compile_commands.json" ] || { echo "no $BUILD_DIR/compile_commands.json: run make build-all"; exit 1; }
files=$(git ls-files 'apps/*.cc' 'packages/*.cc' | grep -v '_fuzz\.cc$')
if [ -n "$files" ]; then
  echo "$files" | xargs -r -P "$(nproc)" -n 4 clang-tidy -p "$BUILD_DIR" --quiet --extra-arg=-Wno-unknown-warning-option 2>/dev/null | grep -E 'warning:|error:' && status=1
fi
[ $status -eq 0 ] && echo "lint: clean"
exit $status
