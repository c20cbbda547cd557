#!/usr/bin/env bash
# CTest entry of the dashboard browser test: installs playwright-core from the
# npm registry (package-lock.json) when node_modules is missing, then runs
# browser_test.py (real legacy stack + profile-writer + ficus-proxy, headless
# Debian Chromium).
#   run.sh PROXY_BIN WRITER_BIN REPO SCREENSHOT [MIGRATOR_BIN]
# With MIGRATOR_BIN the binlog follower runs too and its dashboard panel is
# tested (browser_test.py --migrator).
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/chromium ] || { echo "dashboard test: /usr/bin/chromium missing (apt-get install chromium)" >&2; exit 1; }
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
  (cd "$HERE" && npm ci --no-audit --no-fund >&2)
fi
exec python3 "$HERE/browser_test.py" --proxy "$1" --writer "$2" --repo "$3" --screenshot "$4" \
  ${5:+--migrator "$5"}
