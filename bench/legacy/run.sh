#!/usr/bin/env bash
# Benchmark of the legacy update endpoint (POST /api/v1/profile/update on
# nginx + php-fpm + MariaDB), on its own stack started by
# scripts/stack/legacy-stack.sh in a temp dir and stopped at the end.
#
#   bench/legacy/run.sh [--no-record]
#
# CPU split on a 2-core machine: the whole server side (nginx, php-fpm,
# MariaDB) is pinned to CPU 1 with taskset (children inherit it), wrk to CPU 0,
# so the load generator never steals the server's core.
# Load: wrk, 1 thread, FICUS_BENCH_CONNS (16) keep-alive connections,
# FICUS_BENCH_WARMUP_S (5) s warm-up then FICUS_BENCH_DURATION_S (20) s
# measured; random users from a 100k pool, 3 attributes per update
# (bench/lua/profile_update.lua). Prints updates/s, p50, p99 and appends a
# dated section to bench/RESULTS.md unless --no-record.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CONNS=${FICUS_BENCH_CONNS:-16}
WARMUP=${FICUS_BENCH_WARMUP_S:-5}
DURATION=${FICUS_BENCH_DURATION_S:-20}
SERVER_CPU=${FICUS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${FICUS_BENCH_CLIENT_CPU:-0}
record=1
[ "${1:-}" = "--no-record" ] && record=0

"$ROOT/scripts/install-deps.sh" php db tools

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
state=$(mktemp -d /tmp/ficus-bench-legacy.XXXXXX)
cleanup() {
  "$ROOT/scripts/stack/legacy-stack.sh" stop "$state" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT

echo "bench/legacy: starting the legacy stack on CPU $SERVER_CPU ($state)" >&2
env_lines=$(taskset -c "$SERVER_CPU" "$ROOT/scripts/stack/legacy-stack.sh" start "$state")
eval "$env_lines"
url=$FICUS_LEGACY_URL
lua=$ROOT/bench/lua/profile_update.lua

echo "bench/legacy: warm-up ${WARMUP}s" >&2
FICUS_BENCH_PATH=/api/v1/profile/update \
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${WARMUP}s" -s "$lua" "$url" >/dev/null

cmd="FICUS_BENCH_PATH=/api/v1/profile/update taskset -c $CLIENT_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency -s bench/lua/profile_update.lua $url"
echo "bench/legacy: measuring ${DURATION}s: $cmd" >&2
out=$(cd "$ROOT" && FICUS_BENCH_PATH=/api/v1/profile/update \
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency -s "$lua" "$url")
echo "$out" >&2
line=$(grep '^FICUS_BENCH ' <<<"$out")
get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
rps=$(get rps)
p50=$(get p50_ms)
p99=$(get p99_ms)
errors=$(get errors_4xx_5xx)
sockerr=$(get socket_errors)
workers=$(sed -n 's/^pm.max_children = //p' "$state/legacy/php-fpm.conf")
rows=$(mariadb --no-defaults -S "$FICUS_MYSQL_SOCKET" -u"$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" \
  -N -e 'SELECT COUNT(*) FROM profile_history' "$FICUS_MYSQL_DB")

echo
echo "legacy POST /api/v1/profile/update: ${rps} updates/s, p50 ${p50} ms, p99 ${p99} ms" \
  "(errors ${errors}, socket errors ${sockerr}; ${rows} history rows incl. warm-up)"

if [ "$record" -eq 1 ]; then
  results=$ROOT/bench/RESULTS.md
  [ -f "$results" ] || printf '# Ficus benchmark results\n\nEvery figure with date, machine and command. Newest sections at the end.\n' >"$results"
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  {
    echo
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) legacy monolith, POST /api/v1/profile/update"
    echo
    echo "- Machine: $(nproc) CPUs, $cpu; $(uname -sr); load average before the run: $load_before"
    echo "- Stack: nginx $(/usr/sbin/nginx -v 2>&1 | sed 's#.*/##') + php-fpm $(php -r 'echo PHP_VERSION;') (pm=static, $workers workers, opcache, APCu) + MariaDB $(mariadbd --version | awk '{print $3}') (innodb_flush_log_at_trx_commit=1), all pinned to CPU $SERVER_CPU; wrk on CPU $CLIENT_CPU"
    echo "- Load: random user of 100k, 3 attributes per update, keep-alive, $CONNS connections, ${WARMUP} s warm-up then ${DURATION} s"
    echo "- Command: \`bench/legacy/run.sh\` (measured part: \`$cmd\`)"
    echo
    echo "| updates/s | p50 ms | p99 ms | errors | socket errors |"
    echo "|---:|---:|---:|---:|---:|"
    echo "| $rps | $p50 | $p99 | $errors | $sockerr |"
    if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 1.0) }'; then
      echo
      echo "Note: the machine was busy before this run (1-min load ${load_before%% *} on $(nproc) CPUs," \
        "other processes competing for the pinned CPU), so these figures understate an idle machine."
    fi
  } >>"$results"
  echo "recorded in bench/RESULTS.md"
fi
