#!/usr/bin/env bash
# Streaming pass-through benchmark: ficus-proxy next to nginx (proxy_pass,
# proxy_buffering off) in the same run, each alone on CPU
# $FICUS_BENCH_SERVER_CPU (1); the upstream (nginx serving a file and an
# SSE-like endless chunked answer) and the clients on CPU
# $FICUS_BENCH_CLIENT_CPU (0).
#
#   bench/proxy/stream.sh [--no-record]
#
# Phases:
#   1. download of a $FICUS_BENCH_DOWNLOAD_MB (1024) MiB file, curl to
#      /dev/null, $FICUS_BENCH_ROUNDS (3) rounds: MB/s, time to first byte,
#      and the proxy's peak RSS growth (VmHWM after - VmRSS before);
#   2. $FICUS_BENCH_STREAMS (1000) concurrent slow streams held
#      $FICUS_BENCH_HOLD_S (60) s (bench/proxy/sse_hold.py: each upstream
#      answer sends 64 bytes every second, chunked): RSS per stream and the
#      proxy's CPU seconds over the hold.
# Appends a dated section to bench/RESULTS.md unless --no-record.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PROXY_BIN=${FICUS_PROXY_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-proxy}
SERVER_CPU=${FICUS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${FICUS_BENCH_CLIENT_CPU:-0}
MB=${FICUS_BENCH_DOWNLOAD_MB:-1024}
ROUNDS=${FICUS_BENCH_ROUNDS:-3}
STREAMS=${FICUS_BENCH_STREAMS:-1000}
HOLD=${FICUS_BENCH_HOLD_S:-60}
record=1
[ "${1:-}" = "--no-record" ] && record=0
for b in nginx curl taskset python3; do
  command -v "$b" >/dev/null || [ -x "/usr/sbin/$b" ] || { echo "bench/stream: $b missing" >&2; exit 1; }
done
[ -x "$PROXY_BIN" ] || { echo "bench/stream: no binary at $PROXY_BIN (make build-all)" >&2; exit 1; }
source "$ROOT/scripts/lib.sh"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
state=$(mktemp -d /tmp/ficus-bench-stream.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$state"
}
trap cleanup EXIT
say() { echo "bench/stream: $*" >&2; }
nginx_user=""
[ "$(id -u)" -eq 0 ] && nginx_user="user root root;"

start_nginx() {  # start_nginx NAME CPU SERVER_BLOCKS
  local name=$1 cpu=$2 servers=$3 d=$state/$1
  mkdir -p "$d"
  cat >"$d/nginx.conf" <<CONF
$nginx_user
daemon off;
master_process off;
worker_processes 1;
worker_rlimit_nofile 8192;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  client_body_temp_path $d;
  proxy_temp_path $d;
  keepalive_requests 1000000;
  sendfile on;
  $servers
}
CONF
  taskset -c "$cpu" /usr/sbin/nginx -c "$d/nginx.conf" -e "$d/error.log" &
  pids+=($!)
}

ulimit -n 8192 || true
mkdir -p "$state/www"
truncate -s "${MB}M" "$state/www/big.bin"   # sparse: the upstream reads zeros from the page cache
up_port=$(free_port)
start_nginx upstream "$CLIENT_CPU" "
  server { listen 127.0.0.1:$up_port; root $state/www; location / { } }"
sse_port=$(free_port)
taskset -c "$CLIENT_CPU" python3 "$ROOT/bench/proxy/sse_hold.py" serve --port "$sse_port" &
pids+=($!)

ficus_port=$(free_port)
ficus_admin=$(free_port)
cat >"$state/ficus.yaml" <<YAML
listen: 127.0.0.1:$ficus_port
admin: {listen: 127.0.0.1:$ficus_admin}
workers: 1
access_log: "off"
backends:
  legacy: {url: http://127.0.0.1:$up_port, idle_timeout_ms: 60000}
  sse: {url: http://127.0.0.1:$sse_port, max_idle: 0}
routes:
  - {name: sse, match: {prefix: /sse/}, backends: {legacy: sse}, mode: legacy}
YAML
taskset -c "$SERVER_CPU" "$PROXY_BIN" --config "$state/ficus.yaml" \
  --ready-file "$state/ficus.ready" >"$state/ficus.log" 2>&1 &
ficus_pid=$!
pids+=($ficus_pid)

nginx_port=$(free_port)
start_nginx proxy "$SERVER_CPU" "
  upstream up { server 127.0.0.1:$up_port; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port;
    location / {
      proxy_pass http://up;
      proxy_http_version 1.1;
      proxy_set_header Connection \"\";
      proxy_buffering off;
    }
    location /sse/ {
      proxy_pass http://127.0.0.1:$sse_port;
      proxy_http_version 1.1;
      proxy_buffering off;
    }
  }"
nginx_pid=${pids[-1]}
wait_port 127.0.0.1 "$up_port" 10
wait_port 127.0.0.1 "$sse_port" 10
wait_port 127.0.0.1 "$ficus_port" 15
wait_port 127.0.0.1 "$nginx_port" 10

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
hwm_kb() { awk '/^VmHWM:/ {print $2}' "/proc/$1/status"; }
cpu_s() { awk '{printf "%.2f", ($14 + $15) / 100}' "/proc/$1/stat"; }

# ---- 1. download
download() {  # download NAME PORT PID -> "MB/s ttfb_ms rss_growth_kb" (median of rounds)
  local name=$1 port=$2 pid=$3 i out rss0 results=()
  for ((i = 0; i < ROUNDS; i++)); do
    rss0=$(rss_kb "$pid")
    out=$(taskset -c "$CLIENT_CPU" curl -s -o /dev/null \
      -w '%{speed_download} %{time_starttransfer} %{size_download}' "http://127.0.0.1:$port/big.bin")
    read -r speed ttfb size <<<"$out"
    [ "$size" -eq $((MB * 1024 * 1024)) ] || say "$name: short download ($size bytes)"
    results+=("$(awk -v s="$speed" -v t="$ttfb" -v r0="$rss0" -v h="$(hwm_kb "$pid")" \
      'BEGIN {printf "%.0f %.2f %d", s / 1048576, t * 1000, h - r0}')")
  done
  printf '%s\n' "${results[@]}" | sort -n | sed -n "$(((ROUNDS + 1) / 2))p"
}
say "download ${MB} MiB x $ROUNDS: curl -s -o /dev/null http://127.0.0.1:PORT/big.bin (taskset -c $CLIENT_CPU)"
ficus_dl=$(download ficus "$ficus_port" "$ficus_pid")
nginx_dl=$(download nginx "$nginx_port" "$nginx_pid")
say "ficus: $ficus_dl (MB/s ttfb_ms peak_rss_growth_kb)"
say "nginx: $nginx_dl"

# ---- 2. many slow streams
hold() {  # hold NAME PORT PID -> "streams_ok rss_per_stream_kb cpu_s"
  local name=$1 port=$2 pid=$3 rss0 cpu0 out
  rss0=$(rss_kb "$pid")
  cpu0=$(cpu_s "$pid")
  out=$(taskset -c "$CLIENT_CPU" python3 "$ROOT/bench/proxy/sse_hold.py" hold \
    --port "$port" --streams "$STREAMS" --hold "$HOLD" --rss-pid "$pid")
  # out: "<streams that got data at the end> <peak rss kb during the hold>"
  read -r ok rss_peak <<<"$out"
  awk -v ok="$ok" -v r0="$rss0" -v r1="$rss_peak" -v c0="$cpu0" -v c1="$(cpu_s "$pid")" -v n="$STREAMS" \
    'BEGIN {printf "%d %.1f %.2f", ok, (r1 - r0) / n, c1 - c0}'
}
ficus_sse=""
nginx_sse=""
if [ "$STREAMS" -gt 0 ]; then
  say "$STREAMS streams held ${HOLD}s: python3 bench/proxy/sse_hold.py"
  ficus_sse=$(hold ficus "$ficus_port" "$ficus_pid")
  nginx_sse=$(hold nginx "$nginx_port" "$nginx_pid")
  say "ficus: $ficus_sse (streams_ok rss_kb_per_stream cpu_s)"
  say "nginx: $nginx_sse"
fi
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
say "load before: $load_before, after: $load_after"

if [ "$record" = 1 ]; then
  {
    echo
    echo "## Streaming pass-through: ficus-proxy vs nginx ($(date -u +%Y-%m-%dT%H:%MZ))"
    echo
    echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); SHARED with other"
    echo "helpers' builds and tests: load average $load_before before, $load_after after (a busy machine:"
    echo "figures are indicative, not quiet-machine numbers). Proxies on CPU $SERVER_CPU, one worker each;"
    echo "upstream nginx (sendfile, sparse file) and clients on CPU $CLIENT_CPU. Command: \`bench/proxy/stream.sh\`."
    echo
    echo "| | ficus-proxy | nginx (proxy_buffering off) |"
    echo "|---|---|---|"
    read -r fs ft fr <<<"$ficus_dl"
    read -r ns nt nr <<<"$nginx_dl"
    echo "| ${MB} MiB download, MB/s (median of $ROUNDS) | $fs | $ns |"
    echo "| time to first byte, ms | $ft | $nt |"
    echo "| peak RSS growth during the download, KiB | $fr | $nr |"
    if [ -n "$ficus_sse" ]; then
      read -r fo fp fc <<<"$ficus_sse"
      read -r no np nc <<<"$nginx_sse"
      echo "| $STREAMS streams held ${HOLD} s: streams still receiving at the end | $fo | $no |"
      echo "| RSS per stream, KiB | $fp | $np |"
      echo "| proxy CPU over the hold, s | $fc | $nc |"
    fi
  } >>"$ROOT/bench/RESULTS.md"
  say "recorded in bench/RESULTS.md"
fi
