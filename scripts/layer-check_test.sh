#!/usr/bin/env bash
# CTest: the layer check passes on this repository and catches each kind of
# violation in a scratch repository.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
"$ROOT/scripts/layer-check.sh" "$ROOT" >/dev/null || { echo "FAIL: repository itself violates layering"; "$ROOT/scripts/layer-check.sh" "$ROOT"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
cd "$tmp" && git init -q .
mk() { mkdir -p "$(dirname "$1")"; printf '%s\n' "$2" > "$1"; git add "$1"; }
expect_fail() {  # name path content
  git rm -rq --cached . >/dev/null 2>&1 || true; rm -rf apps packages
  mk "$2" "$3"
  if "$ROOT/scripts/layer-check.sh" "$tmp" >/dev/null; then echo "FAIL: not caught: $1"; exit 1; fi
  echo "ok: caught $1"
}
expect_fail "api includes model" apps/x/src/api/h.cc '#include "model/store.h"'
expect_fail "domain includes rocksdb" apps/x/src/domain/d.cc '#include <rocksdb/db.h>'
expect_fail "domain includes api" apps/x/src/domain/d.h '#include "api/routes.h"'
expect_fail "service includes domain" apps/x/src/service/s.cc '#include "domain/rules.h"'
expect_fail "package includes app" packages/p/a.cc '#include "apps/x/src/api/h.h"'
expect_fail "php api uses model" apps/php-monolith/src/Api/A.php 'use Ficus\Model\ProfileRepository;'
git rm -rq --cached . >/dev/null 2>&1 || true; rm -rf apps packages
mk apps/x/src/api/h.cc '#include "domain/rules.h"'
mk apps/php-monolith/src/Api/A.php 'use Ficus\Domain\ProfileService;'
"$ROOT/scripts/layer-check.sh" "$tmp" >/dev/null || { echo "FAIL: false positive on allowed includes"; exit 1; }
echo "layer-check_test: all cases passed"
