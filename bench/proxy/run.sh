#!/usr/bin/env bash
# Benchmark of the strangler proxy against nginx and HAProxy as reverse
# proxies, all in the same run, on the same upstream and the same CPU budget:
#
#   bench/proxy/run.sh [--no-record]
#
# CPUs: every proxy runs alone on CPU $FICUS_BENCH_SERVER_CPU (1), one event
# loop / worker / thread each; wrk (-t1) and the upstreams share CPU
# $FICUS_BENCH_CLIENT_CPU (0). Upstream: nginx `return 200` with the small
# JSON envelope (1 worker), keep-alive from every proxy.
# Phases (each FICUS_BENCH_DURATION_S (5) s after a 2 s warm-up, repeated
# FICUS_BENCH_ROUNDS (3) times in rotating order, medians reported; wrk
# -c$FICUS_BENCH_CONNS (64), GET /api/v1/profile/get?user_id=...):
#   1. pass-through: ficus-proxy (route in mode legacy), nginx proxy_pass,
#      HAProxy
#   2. mirroring every request to a fast target (another nginx return 200),
#      a slow one (answers after 200 ms: ficus-test-upstream --delay-ms 200)
#      and a dead one (closed port): ficus-proxy in mode shadow, and nginx's
#      `mirror` directive, in the same three cases.
# Access logs are off everywhere. Figures: requests/s, p50/p99 (wrk
# --latency), non-2xx; for ficus-proxy in shadow also the mirror outcome
# counters. FICUS_BENCH_PERF=1 adds a `perf record` of ficus-proxy during an
# extra pass-through run and prints the top symbols.
# Open loop (latency at a given rate, no coordinated omission): after the
# rounds, every case once more under `ficus-loadgen` (Poisson arrivals,
# latency from each request's intended send time) at one rate for all,
# FICUS_BENCH_OPEN_RATE (default: FICUS_BENCH_OPEN_PCT (60) % of the
# slowest pass-through peak of the rounds), FICUS_BENCH_OPEN_S (10) s after a
# 2 s warm-up: p50/p99/p99.9/max and errors per case. FICUS_BENCH_OPEN_S=0
# skips it. Appends a dated section to bench/RESULTS.md unless --no-record.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PROXY_BIN=${FICUS_PROXY_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-proxy}
UPSTREAM_BIN=${FICUS_TEST_UPSTREAM_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-test-upstream}
LOADGEN_BIN=${FICUS_LOADGEN_BIN:-$BUILD_DIR/bench/loadgen/ficus-loadgen}
OPEN_S=${FICUS_BENCH_OPEN_S:-10}
OPEN_PCT=${FICUS_BENCH_OPEN_PCT:-60}
DURATION=${FICUS_BENCH_DURATION_S:-5}
ROUNDS=${FICUS_BENCH_ROUNDS:-3}
CONNS=${FICUS_BENCH_CONNS:-64}
SERVER_CPU=${FICUS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${FICUS_BENCH_CLIENT_CPU:-0}
record=1
[ "${1:-}" = "--no-record" ] && record=0

"$ROOT/scripts/install-deps.sh" tools >/dev/null 2>&1 || true
for b in wrk nginx haproxy taskset curl jq; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "bench/proxy: $b missing (apt-get install $b)" >&2; exit 1; }
done
[ -x "$PROXY_BIN" ] || { echo "bench/proxy: no binary at $PROXY_BIN (make build-all)" >&2; exit 1; }
[ -x "$UPSTREAM_BIN" ] || { echo "bench/proxy: no binary at $UPSTREAM_BIN (make build-all)" >&2; exit 1; }
[ "$OPEN_S" = 0 ] || [ -x "$LOADGEN_BIN" ] || { echo "bench/proxy: no binary at $LOADGEN_BIN (make build-all, or FICUS_BENCH_OPEN_S=0)" >&2; exit 1; }
source "$ROOT/scripts/lib.sh"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
state=$(mktemp -d /tmp/ficus-bench-proxy.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${FICUS_BENCH_KEEP:-}" ] && echo "state kept in $state" >&2 || rm -rf "$state"
}
trap cleanup EXIT
say() { echo "bench/proxy: $*" >&2; }
nginx_user=""
[ "$(id -u)" -eq 0 ] && nginx_user="user root root;"

# start_nginx NAME CPU SERVER_BLOCKS: nginx in the foreground (pid = $!)
start_nginx() {
  local name=$1 cpu=$2 servers=$3 d=$state/$1
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<EOF
$nginx_user
daemon off;
worker_processes 1;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $d;
  proxy_temp_path $d;
  keepalive_requests 1000000;
  $servers
}
EOF
  taskset -c "$cpu" /usr/sbin/nginx -c "$d/nginx.conf" -e "$d/error.log" &
  pids+=($!)
}

# --- upstreams, on the client CPU
up_port=$(free_port)
fast_port=$(free_port)
dead_port=$(free_port)
body='{"ret":200,"data":null,"msg":""}'
start_nginx upstream "$CLIENT_CPU" "
  server { listen 127.0.0.1:$up_port reuseport; location / { default_type application/json; return 200 '$body'; } }
  server { listen 127.0.0.1:$fast_port reuseport; location / { default_type application/json; return 200 '$body'; } }"
taskset -c "$CLIENT_CPU" "$UPSTREAM_BIN" --name slow --small --delay-ms 200 \
  --ready-file "$state/slow.ready" >/dev/null 2>&1 &
pids+=($!)
wait_port 127.0.0.1 "$up_port" 10
wait_port 127.0.0.1 "$fast_port" 10
for _ in $(seq 100); do [ -f "$state/slow.ready" ] && break; sleep 0.1; done
slow_port=$(sed -n 's/.*"port":\([0-9]*\).*/\1/p' "$state/slow.ready")

# --- proxies, each alone on the server CPU
ficus_port=$(free_port)
ficus_admin=$(free_port)
ficus_yaml() {  # ficus_yaml MODE MIRROR_PORT
  cat <<EOF
listen: 127.0.0.1:$ficus_port
admin: {listen: 127.0.0.1:$ficus_admin}
workers: 1
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:$up_port}
  modern: {url: http://127.0.0.1:$2}
cohorts:
  profiles: {key: [header:X-User-Id, query:user_id], salt: "bench"}
routes:
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: profiles
    mode: $1
EOF
}
ficus_yaml legacy "$fast_port" >"$state/ficus.yaml"
taskset -c "$SERVER_CPU" "$PROXY_BIN" --config "$state/ficus.yaml" \
  --ready-file "$state/ficus.ready" >"$state/ficus.log" 2>&1 &
ficus_pid=$!
pids+=($ficus_pid)

nginx_port=$(free_port)
start_nginx proxy "$SERVER_CPU" "
  upstream up { server 127.0.0.1:$up_port; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_set_header X-Forwarded-For \$remote_addr;
    }
  }"

# nginx with `mirror`, one server block per mirror target
nm_fast=$(free_port)
nm_slow=$(free_port)
nm_dead=$(free_port)
mirror_server() {  # mirror_server LISTEN_PORT MIRROR_PORT
  echo "
  server {
    listen 127.0.0.1:$1 reuseport;
    location / {
      mirror /__mirror;
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
    }
    location = /__mirror {
      internal;
      proxy_pass http://127.0.0.1:$2\$request_uri;
      proxy_connect_timeout 1s;
      proxy_read_timeout 1s;
    }
  }"
}
start_nginx mirror "$SERVER_CPU" "
  upstream up { server 127.0.0.1:$up_port; keepalive 128; }
  $(mirror_server "$nm_fast" "$fast_port") $(mirror_server "$nm_slow" "$slow_port") $(mirror_server "$nm_dead" "$dead_port")"

haproxy_port=$(free_port)
cat >"$state/haproxy.cfg" <<EOF
global
  nbthread 1
  maxconn 4096
defaults
  mode http
  timeout connect 1s
  timeout client 30s
  timeout server 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:$haproxy_port
  default_backend be
backend be
  server s1 127.0.0.1:$up_port
EOF
taskset -c "$SERVER_CPU" haproxy -db -f "$state/haproxy.cfg" >"$state/haproxy.log" 2>&1 &
pids+=($!)

for p in "$ficus_port" "$nginx_port" "$haproxy_port" "$nm_fast" "$nm_slow" "$nm_dead"; do
  wait_port 127.0.0.1 "$p" 15
done

path="/api/v1/profile/get?user_id=6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11"
# run_wrk NAME PORT: prints "rps p50_ms p99_ms non2xx"
run_wrk() {
  local name=$1 port=$2 out
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s "http://127.0.0.1:$port$path" >/dev/null 2>&1 || true
  say "$name: taskset -c $CLIENT_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency http://127.0.0.1:$port$path"
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency "http://127.0.0.1:$port$path")
  awk 'function ms(x) { if (x ~ /us$/) return x / 1000; if (x ~ /ms$/) return x + 0; return x * 1000 }
    /Requests\/sec/ {r=$2} /^ +50%/ {p50=ms($2)} /^ +99%/ {p99=ms($2)} /Non-2xx/ {e=$NF}
    /Socket errors/ {se=$0}
    END {printf "%.0f %.3f %.3f %d\n", r, p50, p99, e}' <<<"$out"
}
reload_ficus() {  # reload_ficus MODE MIRROR_PORT: swap the config, wait for it
  local gen
  gen=$(curl -s "http://127.0.0.1:$ficus_admin/metrics" | awk '$1 == "ficus_proxy_config_generation" {print $2}')
  ficus_yaml "$1" "$2" >"$state/ficus.yaml.tmp"
  mv "$state/ficus.yaml.tmp" "$state/ficus.yaml"
  kill -HUP "$ficus_pid"
  for _ in $(seq 50); do
    [ "$(curl -s "http://127.0.0.1:$ficus_admin/metrics" | awk '$1 == "ficus_proxy_config_generation" {print $2}')" -gt "$gen" ] && return 0
    sleep 0.1
  done
  say "ficus-proxy did not reload"; exit 1
}
mirror_counts() {
  curl -s "http://127.0.0.1:$ficus_admin/metrics" |
    awk -F'[{}" ]+' '/^ficus_proxy_mirror_total\{route="profile-get"/ {printf "%s=%s ", $5, $NF}'
}

# Rounds: every case runs once per round, cases of one comparison back to
# back in a rotating order, and the median of the rounds is reported, so
# the load of a shared machine hits all peers alike.
median() { tr ' ' '\n' | sort -g | awk '{v[NR]=$1} END {print v[int((NR + 1) / 2)]}'; }
declare -A S  # KEY -> "rps p50 p99 non2xx" per round, ';'-separated
sample() { S[$1]+="$(run_wrk "$2 (round $round)" "$3");"; }
for ((round = 1; round <= ROUNDS; round++)); do
  reload_ficus legacy "$fast_port"
  order=(ficus nginx haproxy)
  for ((k = 0; k < 3; k++)); do
    case ${order[$(((k + round) % 3))]} in
      ficus) sample ficus "ficus-proxy pass-through" "$ficus_port" ;;
      nginx) sample nginx "nginx proxy_pass" "$nginx_port" ;;
      haproxy) sample haproxy "haproxy" "$haproxy_port" ;;
    esac
  done
  for m in fast slow dead; do
    case $m in fast) mp=$fast_port np=$nm_fast ;; slow) mp=$slow_port np=$nm_slow ;; dead) mp=$dead_port np=$nm_dead ;; esac
    reload_ficus shadow "$mp"
    if ((round % 2)); then
      sample "ficus_$m" "ficus-proxy shadow, $m mirror" "$ficus_port"
      sample "nm_$m" "nginx mirror, $m" "$np"
    else
      sample "nm_$m" "nginx mirror, $m" "$np"
      sample "ficus_$m" "ficus-proxy shadow, $m mirror" "$ficus_port"
    fi
  done
done
declare -A R
for key in "${!S[@]}"; do
  IFS=';' read -r -a runs <<<"${S[$key]}"
  col() { for r in "${runs[@]}"; do [ -n "$r" ] && echo "$r" | awk -v c="$1" '{print $c}'; done | tr '\n' ' ' | median; }
  R[$key]="$(col 1) $(col 2) $(col 3) $(col 4)"
  R[${key}_all]=$(for r in "${runs[@]}"; do [ -n "$r" ] && echo "$r" | awk '{printf "%s/%s ", $1, $3}'; done)
done
mirror_totals=$(mirror_counts)

# --- open loop: every case at one offered rate
open_table=""
open_rate=""
if [ "$OPEN_S" != 0 ]; then
  open_rate=${FICUS_BENCH_OPEN_RATE:-$(for k in ficus nginx haproxy; do echo "${R[$k]}" | awk '{print $1}'; done |
    sort -g | head -1 | awk -v p="$OPEN_PCT" '{printf "%d", $1 * p / 100}')}
  open_run() {  # open_run LABEL PORT: one table row
    local json
    say "$1: taskset -c $CLIENT_CPU ficus-loadgen --rate $open_rate --arrival poisson -c $CONNS --warmup-s 2 --duration-s $OPEN_S"
    json=$(taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --url "http://127.0.0.1:$2$path" --rate "$open_rate" \
      --arrival poisson -c "$CONNS" --warmup-s 2 --duration-s "$OPEN_S" --label "$1" 2>/dev/null) || json='{}'
    jq -r --arg l "$1" '"| \($l) | \(.achieved_rate // 0 | floor) | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.latency_ms.p99_9) | \(.latency_ms.max) | \(.send_lag_ms.p99) | \(.errors.total) |"' <<<"$json"
  }
  open_table="| case (offered $open_rate req/s, Poisson) | achieved/s | p50 ms | p99 ms | p99.9 ms | max ms | send lag p99 ms | errors |
|---|---:|---:|---:|---:|---:|---:|---:|"
  reload_ficus legacy "$fast_port"
  open_table+=$'\n'$(open_run "ficus-proxy pass-through" "$ficus_port")
  open_table+=$'\n'$(open_run "nginx proxy_pass" "$nginx_port")
  open_table+=$'\n'$(open_run "HAProxy" "$haproxy_port")
  for m in fast slow dead; do
    case $m in fast) mp=$fast_port np=$nm_fast ;; slow) mp=$slow_port np=$nm_slow ;; dead) mp=$dead_port np=$nm_dead ;; esac
    reload_ficus shadow "$mp"
    open_table+=$'\n'$(open_run "ficus-proxy shadow, $m mirror" "$ficus_port")
    open_table+=$'\n'$(open_run "nginx mirror, $m" "$np")
  done
  echo "$open_table"
fi

perf_top=""
if [ "${FICUS_BENCH_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  reload_ficus legacy "$fast_port"
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"$((DURATION + 2))s" "http://127.0.0.1:$ficus_port$path" >/dev/null &
  wrk_pid=$!
  sleep 1
  perf record -F 999 -g -p "$ficus_pid" -o "$state/perf.data" -- sleep "$DURATION" >/dev/null 2>&1 || true
  wait "$wrk_pid" || true
  perf_top=$(perf report -i "$state/perf.data" --no-children --stdio --sort symbol 2>/dev/null |
    grep -E '^ +[0-9.]+%' | head -25)
  echo "$perf_top"
fi

row() {  # row LABEL KEY [BASE_KEY]
  read -r rps p50 p99 err <<<"${R[$2]}"
  local rel=""
  if [ -n "${3:-}" ]; then
    read -r brps _ bp99 _ <<<"${R[$3]}"
    rel=$(awk -v a="$rps" -v b="$brps" -v p="$p99" -v q="$bp99" 'BEGIN {printf "%.2fx rps, p99 %+.1f%%", a / b, (p - q) / q * 100}')
  fi
  printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$rps" "$p50" "$p99" "$err" "$rel"
}
table=$(
  echo "| case | req/s | p50 ms | p99 ms | non-2xx | vs reference |"
  echo "|---|---:|---:|---:|---:|---|"
  row "ficus-proxy, pass-through (route in mode legacy)" ficus nginx
  row "nginx 1 worker, proxy_pass + keepalive" nginx
  row "HAProxy 1 thread, http-reuse always" haproxy nginx
  row "ficus-proxy shadow, fast mirror" ficus_fast ficus
  row "ficus-proxy shadow, 200 ms mirror" ficus_slow ficus_fast
  row "ficus-proxy shadow, dead mirror" ficus_dead ficus_fast
  row "nginx mirror, fast" nm_fast nginx
  row "nginx mirror, 200 ms" nm_slow nm_fast
  row "nginx mirror, dead" nm_dead nm_fast
)
echo "$table"
mirrors="ficus-proxy mirror outcomes over all shadow runs (counters): $mirror_totals"
rounds="Per round (req/s / p99 ms): $(for k in ficus nginx haproxy ficus_fast ficus_slow ficus_dead nm_fast nm_slow nm_dead; do printf '%s: %s; ' "$k" "${R[${k}_all]}"; done)"
echo "$rounds"
echo "$mirrors"

if [ "$record" = 1 ]; then
  cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
  nginx_v=$(/usr/sbin/nginx -v 2>&1 | sed 's/.*: //')
  haproxy_v=$(haproxy -v | head -1 | awk '{print $3}')
  section=$(cat <<EOF

## $(date -u +%Y-%m-%dT%H:%MZ) strangler proxy vs nginx and HAProxy (same run, same upstream)

- Machine: $(nproc) CPUs, $cpu; Linux $(uname -r); load average before the run: $load_before (shared machine: other engineers' builds and tests were running)
- Proxies pinned alone to CPU $SERVER_CPU (1 event loop / worker / thread each); wrk -t1 and the upstreams on CPU $CLIENT_CPU. Upstream: nginx $nginx_v \`return 200\` (33-byte JSON), keep-alive from every proxy. HAProxy $haproxy_v. Access logs off.
- Load: \`taskset -c $CLIENT_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency http://127.0.0.1:PORT$path\` after a 2 s warm-up, one proxy at a time, $ROUNDS rounds in rotating order, median per case
- Mirrors: fast = nginx \`return 200\`, 200 ms = \`ficus-test-upstream --small --delay-ms 200\`, dead = closed port. ficus-proxy: mode shadow, mirror timeout 1000 ms, max 256 in flight per route (beyond: dropped and counted as overflow). nginx: \`mirror\` + \`proxy_read_timeout 1s\`.
- Command: \`bench/proxy/run.sh\`

Median of $ROUNDS rounds per case (each column separately). "vs reference": ficus-proxy and HAProxy pass-through vs nginx; shadow 200 ms / dead vs shadow fast (the goal: p99 within 5%); shadow fast vs ficus pass-through; nginx mirror 200 ms / dead vs nginx mirror fast, nginx mirror fast vs nginx.

$table

$mirrors

$rounds
EOF
)
  if [ -n "$open_table" ]; then
    section+=$'\n\n'"Open loop at one rate for every case (\`taskset -c $CLIENT_CPU ficus-loadgen --url http://127.0.0.1:PORT$path --rate $open_rate --arrival poisson -c $CONNS --warmup-s 2 --duration-s $OPEN_S\`; $OPEN_PCT% of the slowest pass-through peak above unless FICUS_BENCH_OPEN_RATE; latency from each request's intended send time; send lag = wait for a free connection or the client's CPU):"$'\n\n'"$open_table"
  fi
  if [ -n "$perf_top" ]; then
    section+=$'\n\nperf (ficus-proxy, pass-through, self time):\n```\n'"$perf_top"$'\n```'
  fi
  cat >>"$ROOT/bench/RESULTS.md" <<EOF
$section
EOF
  say "appended to bench/RESULTS.md"
fi
