#!/usr/bin/env bash
# CTest `format_check` (label lint): every tracked C++ file is as
# clang-format (.clang-format) writes it. Fix with `make fmt`.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT" || exit 2
command -v clang-format >/dev/null || { echo "format_check: clang-format missing"; exit 1; }
bad=$(git ls-files --cached --others --exclude-standard '*.cc' '*.h' |
  xargs -r clang-format --dry-run 2>&1 | grep 'warning:' | cut -d: -f1 | sort -u)
if [ -n "$bad" ]; then
  echo "$bad" | sed 's/^/needs make fmt: /'
  exit 1
fi
echo "format_check: $(git ls-files '*.cc' '*.h' | wc -l) files clean"
