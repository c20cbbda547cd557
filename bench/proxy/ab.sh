#!/usr/bin/env bash
# A/B of two ficus-proxy binaries on the pass-through path (and shadow with a
# fast mirror), same run, same upstream, rounds interleaved:
#
#   bench/proxy/ab.sh BASELINE_BIN CANDIDATE_BIN
#
# Each binary runs alone on CPU $FICUS_BENCH_SERVER_CPU (1), one event loop,
# route profile-get in mode legacy (pass-through) or shadow (mirror to a
# second nginx `return 200`); wrk -t1 -c$FICUS_BENCH_CONNS (64) and the
# upstream nginx on CPU $FICUS_BENCH_CLIENT_CPU (0). FICUS_BENCH_ROUNDS (7)
# pass-through rounds and FICUS_BENCH_SHADOW_ROUNDS (3) shadow rounds of
# FICUS_BENCH_DURATION_S (5) s after a 2 s warm-up, A and B alternating
# (A first on odd rounds), a fresh process per sample; prints the median
# requests/s and p99 per binary and the B/A ratio. Prints only: record the
# figures in bench/RESULTS.md.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
A_BIN=${1:?baseline ficus-proxy binary}
B_BIN=${2:?candidate ficus-proxy binary}
DURATION=${FICUS_BENCH_DURATION_S:-5}
ROUNDS=${FICUS_BENCH_ROUNDS:-7}
SHADOW_ROUNDS=${FICUS_BENCH_SHADOW_ROUNDS:-3}
CONNS=${FICUS_BENCH_CONNS:-64}
SERVER_CPU=${FICUS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${FICUS_BENCH_CLIENT_CPU:-0}
for b in wrk nginx taskset; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "ab.sh: $b missing" >&2; exit 1; }
done
source "$ROOT/scripts/lib.sh"
state=$(mktemp -d /tmp/ficus-bench-ab.XXXXXX)
pids=()
proxy_pid=""
cleanup() {
  local p
  [ -n "$proxy_pid" ] && kill -TERM "$proxy_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
nginx_user=""
[ "$(id -u)" -eq 0 ] && nginx_user="user root root;"
up_port=$(free_port)
mirror_port=$(free_port)
body='{"ret":200,"data":null,"msg":""}'
cat >"$state/nginx.conf" <<NGINX
$nginx_user
daemon off;
worker_processes 1;
pid $state/nginx.pid;
error_log $state/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $state;
  proxy_temp_path $state;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$up_port reuseport; location / { default_type application/json; return 200 '$body'; } }
  server { listen 127.0.0.1:$mirror_port reuseport; location / { default_type application/json; return 200 '$body'; } }
}
NGINX
taskset -c "$CLIENT_CPU" /usr/sbin/nginx -c "$state/nginx.conf" -e "$state/error.log" &
pids+=($!)
wait_port 127.0.0.1 "$up_port" 10

start_proxy() {  # start_proxy BIN MODE -> sets proxy_pid, proxy_port
  proxy_port=$(free_port)
  local admin
  admin=$(free_port)
  cat >"$state/ficus.yaml" <<YAML
listen: 127.0.0.1:$proxy_port
admin: {listen: 127.0.0.1:$admin}
workers: 1
access_log: "off"
replay: {dir: $state/replay}
backends:
  legacy: {url: http://127.0.0.1:$up_port}
  modern: {url: http://127.0.0.1:$mirror_port}
cohorts:
  profiles: {key: [header:X-User-Id, query:user_id], salt: "bench"}
routes:
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: profiles
    mode: $2
YAML
  rm -rf "$state/replay"
  taskset -c "$SERVER_CPU" "$1" --config "$state/ficus.yaml" >"$state/ficus.log" 2>&1 &
  proxy_pid=$!
  wait_port 127.0.0.1 "$proxy_port" 15
}
stop_proxy() {
  kill -TERM "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
  proxy_pid=""
}

path="/api/v1/profile/get?user_id=6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"
run_wrk() {  # run_wrk PORT: prints "rps p99_ms"
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$1$path" >/dev/null 2>&1 || true
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$1$path" |
    awk 'function ms(x) { if (x ~ /us$/) return x / 1000; if (x ~ /ms$/) return x + 0; return x * 1000 }
      /Requests\/sec/ {r=$2} /^ +99%/ {p99=ms($2)} END {printf "%.0f %.3f\n", r, p99}'
}
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }
declare -A RPS P99
measure() {  # measure KEY BIN MODE
  start_proxy "$2" "$3"
  local out
  out=$(run_wrk "$proxy_port")
  stop_proxy
  RPS[$1]+="$(echo "$out" | awk '{print $1}') "
  P99[$1]+="$(echo "$out" | awk '{print $2}') "
  echo "ab.sh: $1 $out" >&2
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in legacy shadow; do
  n=$ROUNDS
  [ "$mode" = shadow ] && n=$SHADOW_ROUNDS
  for ((round = 1; round <= n; round++)); do
    if ((round % 2)); then
      measure "A_$mode" "$A_BIN" "$mode"
      measure "B_$mode" "$B_BIN" "$mode"
    else
      measure "B_$mode" "$B_BIN" "$mode"
      measure "A_$mode" "$A_BIN" "$mode"
    fi
  done
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
for mode in legacy shadow; do
  a=$(echo "${RPS[A_$mode]}" | median)
  b=$(echo "${RPS[B_$mode]}" | median)
  ap=$(echo "${P99[A_$mode]}" | median)
  bp=$(echo "${P99[B_$mode]}" | median)
  echo "$mode: A $a rps p99 $ap ms | B $b rps p99 $bp ms | B/A rps $(awk -v a="$a" -v b="$b" 'BEGIN{printf "%.3f", b/a}')"
  echo "$mode rounds: A rps ${RPS[A_$mode]}| B rps ${RPS[B_$mode]}"
done
