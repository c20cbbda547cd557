#!/usr/bin/env bash
# Test harness for the legacy stack: starts/stops the project's own MariaDB,
# php-fpm and nginx (serving apps/php-monolith) under a state directory, on
# free 127.0.0.1 ports. No system service is touched. Stable interface, used
# by the PHP tests, bench/legacy/run.sh and the C++ black-box tests:
#
#   legacy-stack.sh start STATE_DIR        MariaDB + php-fpm + nginx
#   legacy-stack.sh start-mysql STATE_DIR  MariaDB only (schema applied)
#   legacy-stack.sh stop STATE_DIR         stops what STATE_DIR's pid files name
#   legacy-stack.sh env STATE_DIR          prints the lines again (running stack)
#
# `start` and `start-mysql` return once the schema is applied (and, for
# `start`, GET /healthz answers), then print shell-sourceable lines on stdout,
# nothing else (progress and errors go to stderr; exit status != 0 on failure):
#   FICUS_LEGACY_URL=http://127.0.0.1:PORT      (start only)
#   FICUS_MYSQL_HOST=127.0.0.1
#   FICUS_MYSQL_PORT=PORT                       TCP, user below
#   FICUS_MYSQL_SOCKET=/abs/path/mysqld.sock
#   FICUS_MYSQL_USER=ficus   FICUS_MYSQL_PASSWORD=ficus   FICUS_MYSQL_DB=ficus
#   FICUS_MYSQL_REPL_USER=ficus_repl  FICUS_MYSQL_REPL_PASSWORD=ficus_repl  (REPLICATION SLAVE only)
# MariaDB runs with the binlog on (ROW, FULL images and metadata, GTIDs, server_id 1).
# The user has ALL PRIVILEGES ON *.* (tests may create their own databases).
# Ports: pass FICUS_MYSQL_PORT / FICUS_LEGACY_PORT to pin them, else free ones.
# Layout: STATE_DIR/mariadb (datadir, socket, pid), STATE_DIR/legacy (php-fpm,
# nginx configs, sockets, pids), STATE_DIR/logs. `stop` is safe to repeat;
# the caller removes STATE_DIR afterwards if it wants.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/../lib.sh"
source "$HERE/lib-legacy.sh"

usage() {
  echo "usage: $0 start|start-mysql|stop|env STATE_DIR" >&2
  exit 2
}
[ $# -eq 2 ] || usage
cmd=$1
mkdir -p "$2"
state=$(cd "$2" && pwd)

start_mysql() {
  local port=${FICUS_MYSQL_PORT:-} try
  for try in 1 2 3; do
    [ -n "${FICUS_MYSQL_PORT:-}" ] || port=$(free_port)
    if legacy_mysql_start "$state/mariadb" "$port" "$state/logs" >&2; then
      return 0
    fi
    legacy_mysql_stop "$state/mariadb"
    [ -z "${FICUS_MYSQL_PORT:-}" ] || return 1
  done
  return 1
}

start_web() {
  local port=${FICUS_LEGACY_PORT:-} try
  for try in 1 2 3; do
    [ -n "${FICUS_LEGACY_PORT:-}" ] || port=$(free_port)
    if legacy_web_start "$state/legacy" "$port" "$state/mariadb" "$state/logs" >&2; then
      return 0
    fi
    legacy_web_stop "$state/legacy"
    [ -z "${FICUS_LEGACY_PORT:-}" ] || return 1
  done
  return 1
}

print_env() {
  [ -f "$state/legacy/legacy.env" ] && legacy_pid_alive "$state/legacy/nginx.pid" &&
    cat "$state/legacy/legacy.env"
  cat "$state/mariadb/mysql.env"
}

case "$cmd" in
  start)
    start_mysql || { echo "legacy-stack: MariaDB failed; logs in $state/logs" >&2; exit 1; }
    start_web || { echo "legacy-stack: php-fpm/nginx failed; logs in $state/logs" >&2; exit 1; }
    print_env
    ;;
  start-mysql)
    start_mysql || { echo "legacy-stack: MariaDB failed; logs in $state/logs" >&2; exit 1; }
    print_env
    ;;
  stop)
    legacy_web_stop "$state/legacy"
    legacy_mysql_stop "$state/mariadb"
    ;;
  env)
    print_env
    ;;
  *) usage ;;
esac
