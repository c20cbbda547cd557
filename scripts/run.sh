#!/usr/bin/env bash
# Starts or stops the whole Ficus stack on 127.0.0.1, state under .run/.
#   scripts/run.sh start | stop | status
# Each service is a file scripts/services/NN-name.sh defining
#   svc_start, svc_stop, svc_urls (prints "name  url" lines)
# started in NN order and stopped in reverse. Ports come from the
# environment (defaults below), so several checkouts can run side by side.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
export FICUS_ROOT=$ROOT
export RUN_DIR=${FICUS_RUN_DIR:-$ROOT/.run}
export BUILD_DIR=${BUILD_DIR:-$ROOT/build}
export FICUS_PROXY_PORT=${FICUS_PROXY_PORT:-8080}
export FICUS_ADMIN_PORT=${FICUS_ADMIN_PORT:-9901}
export FICUS_LEGACY_PORT=${FICUS_LEGACY_PORT:-8081}
export FICUS_WRITER_PORT=${FICUS_WRITER_PORT:-8082}
export FICUS_MYSQL_PORT=${FICUS_MYSQL_PORT:-3307}
export FICUS_FOLLOWER_METRICS_PORT=${FICUS_FOLLOWER_METRICS_PORT:-9904}
mkdir -p "$RUN_DIR/logs"

services=()
for f in "$ROOT"/scripts/services/[0-9][0-9]-*.sh; do
  [ -e "$f" ] && services+=("$f")
done

run_in() {  # run_in FILE FUNCTION: each service file in its own subshell
  ( set -euo pipefail; source "$1"; "$2" )
}

case "${1:-}" in
  start)
    for f in "${services[@]}"; do
      echo "starting $(basename "$f" .sh | cut -d- -f2-)"
      if ! run_in "$f" svc_start; then
        echo "run: $(basename "$f") failed to start; logs in $RUN_DIR/logs" >&2
        exit 1
      fi
    done
    echo
    echo "Ficus is up (state in $RUN_DIR, logs in $RUN_DIR/logs):"
    for f in "${services[@]}"; do run_in "$f" svc_urls; done
    echo
    echo "Stop it with: make stop"
    ;;
  stop)
    for ((i=${#services[@]}-1; i>=0; i--)); do
      run_in "${services[$i]}" svc_stop || true
    done
    ;;
  *)
    echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
