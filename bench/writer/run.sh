#!/usr/bin/env bash
# Benchmark of the profile writer (POST /api/v2/profile/update, durable: WAL
# fsynced before each 200, group commit) against, in the same run and on the
# same CPU budget:
#   - the legacy endpoint (nginx + php-fpm + MariaDB, POST /api/v1/profile/update)
#   - the loopback HTTP ceiling: nginx `return 204` (1 worker), with wrk's
#     built-in request and with the same Lua payload generator
#
#   bench/writer/run.sh [--no-record]
#
# Every server runs pinned to CPU $FICUS_BENCH_SERVER_CPU (1) with taskset
# (children and threads inherit it), wrk to CPU $FICUS_BENCH_CLIENT_CPU (0).
# Load: wrk -t1, keep-alive, random user of a 100k pool, 3 attributes per
# update (bench/lua/profile_update.lua, the legacy bench's generator, with
# FICUS_BENCH_PREGEN=100000: 100k random requests built before the clock
# starts, so the one wrk thread on its shared CPU is not the bottleneck -
# every update peer, legacy included, gets exactly this load).
# Phases (each FICUS_BENCH_DURATION_S (15) s unless noted):
#   1. nginx ceiling, plain wrk and Lua generator     (WRITER_CONNS connections)
#   2. legacy: 5 s warm-up, then measured            (LEGACY_CONNS, 16 as bench/legacy)
#   3. writer fill: users 1..100k in order, FICUS_BENCH_FILL_S (10) s, so reads find them
#   4. writer peak updates: closed loop              (WRITER_CONNS, 128)
#   5. open-loop curve: writer updates offered at FICUS_BENCH_CURVE percent
#      of 4's rate (default "50 60 70 80 90 100"), each FICUS_BENCH_PACED_S
#      (10) s after 2 s of warm-up, by ficus-loadgen (bench/README.md):
#      Poisson arrivals, latency from each request's intended send time (no
#      coordinated omission), p50/p90/p99/p99.9/max, offered vs achieved
#      rate, errors, the 1-min load average at that point, the writer's CPU
#      share, and from its /metrics the share of updates the server itself
#      took > 10 ms over and the WAL syncs > 10 ms (where the tail comes from)
#   6. writer peak reads, GET /api/v2/profile/get, closed loop
# FICUS_BENCH_WRITER_ONLY=1 skips phases 1-2 (nginx ceiling, legacy) and the
# ratio to legacy: for curve runs on a busy machine.
# Group-commit figures (mean batch, mean synced-write time) come from the
# writer's /metrics around phase 4. FICUS_BENCH_PERF=1 adds `perf record`
# (cpu-clock) of the writer during a second peak run and prints the top
# symbols. Appends a dated section to bench/RESULTS.md unless --no-record.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}
WRITER_CONNS=${FICUS_BENCH_WRITER_CONNS:-128}
LEGACY_CONNS=${FICUS_BENCH_LEGACY_CONNS:-16}
DURATION=${FICUS_BENCH_DURATION_S:-15}
FILL=${FICUS_BENCH_FILL_S:-10}
SERVER_CPU=${FICUS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${FICUS_BENCH_CLIENT_CPU:-0}
CURVE=${FICUS_BENCH_CURVE:-50 60 70 80 90 100}
PACED_S=${FICUS_BENCH_PACED_S:-10}
ARRIVAL=${FICUS_BENCH_ARRIVAL:-poisson}
WRITER_ONLY=${FICUS_BENCH_WRITER_ONLY:-0}
LOADGEN_BIN=${FICUS_LOADGEN_BIN:-$BUILD_DIR/bench/loadgen/ficus-loadgen}
record=1
[ "${1:-}" = "--no-record" ] && record=0

"$ROOT/scripts/install-deps.sh" php db tools
source "$ROOT/scripts/lib.sh"
[ -x "$WRITER_BIN" ] || { echo "bench/writer: no binary at $WRITER_BIN (make build-all)" >&2; exit 1; }
[ -x "$LOADGEN_BIN" ] || { echo "bench/writer: no binary at $LOADGEN_BIN (make build-all)" >&2; exit 1; }

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
# A fixed CPU job on the server CPU (sha256 of 200 MB), to compare machines
# and runs: the same code measured 17.7 us per update on one VM and 28-47 on
# another (bench/RESULTS.md 2026-12-04).
calib_t0=$(date +%s%N)
taskset -c "$SERVER_CPU" sh -c 'head -c 200000000 /dev/zero | sha256sum >/dev/null'
calib_ms=$(( ($(date +%s%N) - calib_t0) / 1000000 ))
state=$(mktemp -d /tmp/ficus-bench-writer.XXXXXX)
writer_pid=""
cleanup() {
  [ -n "$writer_pid" ] && kill -TERM "$writer_pid" 2>/dev/null && wait "$writer_pid" 2>/dev/null
  [ -f "$state/nginx/nginx.pid" ] && kill -TERM "$(cat "$state/nginx/nginx.pid")" 2>/dev/null
  "$ROOT/scripts/stack/legacy-stack.sh" stop "$state/legacy" >/dev/null 2>&1 || true
  sleep 0.2
  rm -rf "$state"
}
trap cleanup EXIT
lua=$ROOT/bench/lua
say() { echo "bench/writer: $*" >&2; }

# --- servers, all on SERVER_CPU
mkdir -p "$state/nginx" "$state/writer"
nginx_port=$(free_port)
nginx_user=""
[ "$(id -u)" -eq 0 ] && nginx_user="user root root;"
cat >"$state/nginx/nginx.conf" <<EOF
$nginx_user
worker_processes 1;
pid $state/nginx/nginx.pid;
error_log $state/nginx/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $state/nginx;
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    keepalive_requests 1000000;
    location / { return 204; }
  }
}
EOF
taskset -c "$SERVER_CPU" /usr/sbin/nginx -c "$state/nginx/nginx.conf" -e "$state/nginx/error.log"
wait_port 127.0.0.1 "$nginx_port" 10

taskset -c "$SERVER_CPU" "$WRITER_BIN" --listen 127.0.0.1:0 --data-dir "$state/writer/db" \
  --log-level warn >"$state/writer/out" 2>"$state/writer/log" &
writer_pid=$!
for _ in $(seq 100); do grep -q 'listening on' "$state/writer/out" 2>/dev/null && break; sleep 0.1; done
writer_url=$(sed -n 's/.*listening on \(http:[^ ]*\).*/\1/p' "$state/writer/out")
[ -n "$writer_url" ] || { say "writer did not start:"; cat "$state/writer/log" >&2; exit 1; }

if [ "$WRITER_ONLY" != 1 ]; then
  say "starting the legacy stack on CPU $SERVER_CPU"
  env_lines=$(taskset -c "$SERVER_CPU" "$ROOT/scripts/stack/legacy-stack.sh" start "$state/legacy")
  legacy_url=$(sed -n 's/^FICUS_LEGACY_URL=//p' <<<"$env_lines")
fi

# run_wrk NAME CONNS SECONDS URL SCRIPT [ENV...]: prints the FICUS_BENCH line
run_wrk() {
  local name=$1 conns=$2 secs=$3 url=$4 script=$5 out
  shift 5
  say "$name: wrk -t1 -c$conns -d${secs}s ${script:+-s $script} $url $*"
  if [ -n "$script" ]; then
    out=$(env "$@" taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${secs}s" --latency -s "$script" "$url")
    grep '^FICUS_BENCH ' <<<"$out"
  else
    out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$conns" -d"${secs}s" --latency "$url")
    # wrk's own summary -> the same key=value line (latency units us/ms/s -> ms)
    awk 'function ms(x) { if (x ~ /us$/) return x / 1000; if (x ~ /ms$/) return x + 0; return x * 1000 }
      /Requests\/sec/ {r=$2} /^ +50%/ {p50=ms($2)} /^ +90%/ {p90=ms($2)} /^ +99%/ {p99=ms($2)}
      /Non-2xx/ {e=$NF}
      END {printf "FICUS_BENCH rps=%s p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f errors_4xx_5xx=%d socket_errors=0\n", r, p50, p90, p99, e}' \
      <<<"$out"
  fi
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"$1"; }
# writer_run NAME CONNS SECONDS SCRIPT [ENV...]: run_wrk against the writer,
# plus the writer's own CPU time per request (utime+stime from /proc, a
# figure the shared machine disturbs far less than requests/s) and the share
# of a CPU it got, and how busy the server CPU was in total (others included).
cpu1() { awk -v c="cpu$SERVER_CPU" '$1 == c {print $2+$3+$4+$6+$7+$8, $2+$3+$4+$5+$6+$7+$8}' /proc/stat; }
writer_run() {
  local name=$1 conns=$2 secs=$3 script=$4 line c0 c1 t0 t1 s0 s1
  shift 4
  c0=$(awk '{print $14+$15}' "/proc/$writer_pid/stat"); s0=$(cpu1); t0=$(date +%s.%N)
  line=$(run_wrk "$name" "$conns" "$secs" "$writer_url" "$script" "$@")
  c1=$(awk '{print $14+$15}' "/proc/$writer_pid/stat"); s1=$(cpu1); t1=$(date +%s.%N)
  local hz
  hz=$(getconf CLK_TCK)
  echo "$line $(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$hz" -v req="$(field "$line" requests)" \
    -v s0="$s0" -v s1="$s1" 'BEGIN { split(s0, x, " "); split(s1, y, " ");
      printf "cpu_us=%.1f cpu_share=%.2f cpu_busy=%.2f", (b-a)/hz*1e6/req, (b-a)/hz/(t1-t0), (y[1]-x[1])/(y[2]-x[2]) }')"
}
metric() { curl -s "$writer_url/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

if [ "$WRITER_ONLY" != 1 ]; then
  ceiling_plain=$(run_wrk "nginx return 204 (plain wrk)" "$WRITER_CONNS" "$DURATION" "http://127.0.0.1:$nginx_port/" "")
  ceiling_lua=$(run_wrk "nginx return 204 (Lua generator)" "$WRITER_CONNS" "$DURATION" "http://127.0.0.1:$nginx_port" \
    "$lua/profile_update.lua" FICUS_BENCH_PATH=/api/v2/profile/update FICUS_BENCH_PREGEN=100000)

  run_wrk "legacy warm-up" "$LEGACY_CONNS" 5 "$legacy_url" "$lua/profile_update.lua" \
    FICUS_BENCH_PATH=/api/v1/profile/update FICUS_BENCH_PREGEN=100000 >/dev/null
  # CPU time of the whole legacy stack (mariadbd, php-fpm master + workers,
  # nginx master + worker), from the pid files and their children.
  legacy_ticks() {
    local pids="" f p
    for f in "$state"/legacy/mariadb/mysqld.pid "$state"/legacy/legacy/php-fpm.pid \
      "$state"/legacy/legacy/nginx.pid; do
      [ -f "$f" ] || continue
      p=$(cat "$f")
      pids="$pids $p $(pgrep -P "$p" | tr '\n' ' ')"
    done
    for p in $pids; do cat "/proc/$p/stat" 2>/dev/null; done | awk '{t += $14 + $15} END {print t + 0}'
  }
  l0=$(legacy_ticks)
  legacy=$(run_wrk "legacy updates" "$LEGACY_CONNS" "$DURATION" "$legacy_url" "$lua/profile_update.lua" \
    FICUS_BENCH_PATH=/api/v1/profile/update FICUS_BENCH_PREGEN=100000)
  l1=$(legacy_ticks)
  legacy="$legacy cpu_us=$(awk -v a="$l0" -v b="$l1" -v hz="$(getconf CLK_TCK)" -v r="$(field "$legacy" requests)" \
    -v d="$DURATION" 'BEGIN {printf "%.1f cpu_share=%.2f", (b-a)/hz*1e6/r, (b-a)/hz/d}')"
  "$ROOT/scripts/stack/legacy-stack.sh" stop "$state/legacy" >/dev/null 2>&1 || true  # frees CPU 1
fi

fill=$(writer_run "writer fill (users in order)" "$WRITER_CONNS" "$FILL" "$lua/profile_update.lua" \
  FICUS_BENCH_PATH=/api/v2/profile/update FICUS_BENCH_SEQUENTIAL=1)
b_sum0=$(metric ficus_writer_group_commit_batch_size_sum)
b_cnt0=$(metric ficus_writer_group_commit_batch_size_count)
s_sum0=$(metric ficus_writer_wal_sync_seconds_sum)
writes=$(writer_run "writer peak updates" "$WRITER_CONNS" "$DURATION" "$lua/profile_update.lua" \
  FICUS_BENCH_PATH=/api/v2/profile/update FICUS_BENCH_PREGEN=100000)
b_sum1=$(metric ficus_writer_group_commit_batch_size_sum)
b_cnt1=$(metric ficus_writer_group_commit_batch_size_count)
s_sum1=$(metric ficus_writer_wal_sync_seconds_sum)
peak=$(field "$writes" rps)

# --- open-loop curve (ficus-loadgen), writer only
# hist METRIC LE [FILTER]: cumulative count of a /metrics histogram bucket
# (summed over label sets containing FILTER), and its _count.
hist() { curl -s "$writer_url/metrics" | awk -v m="$1" -v le="$2" -v f="${3:-}" '
  index($0, m "_bucket{") == 1 && index($0, "le=\"" le "\"") && index($0, f) {b += $NF}
  index($0, m "_count") == 1 && index($0, f) {c += $NF}
  END {printf "%d %d\n", b, c}'; }
# Nanoseconds the writer's threads spent runnable but waiting for a CPU
# (/proc/PID/task/*/schedstat, field 2): the scheduler's share of the tail.
runq_ns() { cat /proc/"$writer_pid"/task/*/schedstat 2>/dev/null | awk '{s += $2} END {printf "%d", s}'; }
curve_rows=""
paced80=""
for pct in $CURVE; do
  target=$(awk -v p="$peak" -v f="$pct" 'BEGIN {printf "%d", p * f / 100}')
  load1=$(cut -d' ' -f1 /proc/loadavg)
  read -r h0le h0n < <(hist ficus_writer_http_request_duration_seconds 0.01 'route="update"')
  read -r s0le s0n < <(hist ficus_writer_wal_sync_seconds 0.01)
  c0=$(awk '{print $14+$15}' "/proc/$writer_pid/stat"); t0=$(date +%s.%N); q0=$(runq_ns)
  say "open loop $pct% of peak = $target/s ($ARRIVAL, ${PACED_S} s after 2 s warm-up, load $load1)"
  json=$(taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --url "$writer_url/api/v2/profile/update" \
    --rate "$target" --arrival "$ARRIVAL" -c "$WRITER_CONNS" --warmup-s 2 --duration-s "$PACED_S" \
    --method POST -H 'Content-Type: application/json' \
    --body '{"user_id":"{user}","attributes":{{attrs:3}}}' --label "writer-$pct" --timeline-ms 100 2>/dev/null)
  c1=$(awk '{print $14+$15}' "/proc/$writer_pid/stat"); t1=$(date +%s.%N); q1=$(runq_ns)
  runq=$(awk -v a="$q0" -v b="$q1" -v t0="$t0" -v t1="$t1" 'BEGIN {printf "%.0f", (b-a)/1e6/(t1-t0)}')
  read -r h1le h1n < <(hist ficus_writer_http_request_duration_seconds 0.01 'route="update"')
  read -r s1le s1n < <(hist ficus_writer_wal_sync_seconds 0.01)
  share=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" -v hz="$(getconf CLK_TCK)" \
    'BEGIN {printf "%.2f", (b-a)/hz/(t1-t0)}')
  srv=$(awk -v a="$h0le" -v b="$h1le" -v c="$h0n" -v d="$h1n" 'BEGIN {n=d-c; printf "%.3f", n ? 100*(n-(b-a))/n : 0}')
  syncs=$(awk -v a="$s0le" -v b="$s1le" -v c="$s0n" -v d="$s1n" 'BEGIN {printf "%d of %d", (d-c)-(b-a), d-c}')
  row=$(jq -r --arg pct "$pct" --arg load "$load1" --arg share "$share" --arg srv "$srv" --arg syncs "$syncs" --arg runq "$runq" \
    '(.timeline | map(select(.[2] > 10)) | length) as $slow | (.timeline | max_by(.[2])) as $w | "| \($pct)% | \(.offered_rate|floor) | \(.achieved_rate|floor) | \(.latency_ms.p50) | \(.latency_ms.p90) | **\(.latency_ms.p99)** | **\(.latency_ms.p99_9)** | \(.latency_ms.max) | \(.service_ms.p99) | \(.send_lag_ms.p99) | \(.errors.total) | \($srv)% | \($syncs) | \($share) | \($runq) | \($slow) of \(.timeline|length) | \($w[0]/1000) s: \($w[2]) ms (service \($w[3])) | \($load) |"' <<<"$json")
  echo "$row" >&2
  curve_rows="$curve_rows$row"$'\n'
  [ "$pct" = 80 ] && paced80=$json
done
reads=$(writer_run "writer peak reads" "$WRITER_CONNS" "$DURATION" "$lua/profile_get.lua")

perf_top=""
if [ "${FICUS_BENCH_PERF:-0}" = 1 ]; then
  say "perf record (cpu-clock) of the writer during a peak update run"
  perf record -e cpu-clock -F 999 -g -p "$writer_pid" -o "$state/perf.data" -- sleep "$DURATION" \
    >/dev/null 2>&1 &
  perf_pid=$!
  run_wrk "writer peak updates (profiled)" "$WRITER_CONNS" "$DURATION" "$writer_url" \
    "$lua/profile_update.lua" FICUS_BENCH_PATH=/api/v2/profile/update FICUS_BENCH_PREGEN=100000 >/dev/null
  wait "$perf_pid" || true
  perf_top=$(perf report -i "$state/perf.data" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
    grep "%" | grep -v "^#" | head -25 || true)
  echo "$perf_top" >&2
fi

mean_batch=$(awk -v a="$b_sum0" -v b="$b_sum1" -v c="$b_cnt0" -v d="$b_cnt1" 'BEGIN {printf "%.1f", (b-a)/(d-c)}')
mean_sync=$(awk -v a="$s_sum0" -v b="$s_sum1" -v c="$b_cnt0" -v d="$b_cnt1" 'BEGIN {printf "%.2f", 1000*(b-a)/(d-c)}')
ratio=$(awk -v w="$peak" -v l="$(field "${legacy:-}" rps)" 'BEGIN {printf "%.1f", l ? w / l : 0}')
rw=$(awk -v r="$(field "$reads" rps)" -v w="$peak" 'BEGIN {printf "%.2f", r / w}')
row() { # row LABEL CONNS LINE
  local cpu="" share="" busy=""
  if [ -n "$(field "$3" cpu_us)" ]; then
    cpu=$(field "$3" cpu_us)
    share=$(field "$3" cpu_share)
    busy=$(field "$3" cpu_busy)
  fi
  echo "| $1 | $2 | $(field "$3" rps) | $(field "$3" p50_ms) | $(field "$3" p99_ms) | $(field "$3" errors_4xx_5xx) | $(field "$3" socket_errors) | $cpu | $share | $busy |"
}
table=$(
  echo "| run | conns | requests/s | p50 ms | p99 ms | non-2xx | socket errors | server CPU us/req | CPU share obtained | CPU $SERVER_CPU busy (all processes) |"
  echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
  if [ "$WRITER_ONLY" != 1 ]; then
    row "nginx \`return 204\`, plain wrk (ceiling)" "$WRITER_CONNS" "$ceiling_plain"
    row "nginx \`return 204\`, Lua update generator" "$WRITER_CONNS" "$ceiling_lua"
    row "legacy POST /api/v1/profile/update" "$LEGACY_CONNS" "$legacy"
  fi
  row "writer fill (users in order, ${FILL} s)" "$WRITER_CONNS" "$fill"
  row "**writer POST /api/v2/profile/update, peak**" "$WRITER_CONNS" "$writes"
  row "writer GET /api/v2/profile/get, peak" "$WRITER_CONNS" "$reads"
)
cap_w=$(awk -v c="$(field "$writes" cpu_us)" 'BEGIN {printf "%d", 1e6 / c}')
cap_r=$(awk -v c="$(field "$reads" cpu_us)" 'BEGIN {printf "%d", 1e6 / c}')
cpu_ratio=$(awk -v w="$(field "$writes" cpu_us)" -v l="$(field "${legacy:-}" cpu_us)" 'BEGIN {printf "%.1f", l / w}')
curve_head="| offered (% of peak) | offered/s | achieved/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | service p99 ms | send lag p99 ms | errors | server > 10 ms | WAL syncs > 10 ms | writer CPU share | writer waiting for a CPU, ms/s | 100 ms windows with a request > 10 ms | worst window: start, worst latency | load 1-min |
|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
p99_80=n/a p999_80=n/a
if [ -n "$paced80" ]; then
  p99_80=$(jq -r '.latency_ms.p99' <<<"$paced80")
  p999_80=$(jq -r '.latency_ms.p99_9' <<<"$paced80")
fi
legacy_part="writer/legacy updates: ${ratio}x (goal >= 30x), per CPU second ${cpu_ratio}x (legacy stack $(field "${legacy:-}" cpu_us) us CPU per update); "
[ "$WRITER_ONLY" = 1 ] && legacy_part="legacy not run (FICUS_BENCH_WRITER_ONLY=1); "
summary="${legacy_part}open loop at 80% of peak: p99 ${p99_80} ms (goal < 10), p99.9 ${p999_80} ms (goal < 25); reads/writes: ${rw}x (goal >= 2x); group commit during the peak run: mean ${mean_batch} updates per synced write, mean ${mean_sync} ms per synced write; writer CPU per request: update $(field "$writes" cpu_us) us, read $(field "$reads" cpu_us) us, i.e. a whole core would carry about $cap_w updates/s or $cap_r reads/s (the writer got $(field "$writes" cpu_share) of CPU $SERVER_CPU during the peak update run)"
echo
echo "$table"
echo
echo "$curve_head"
printf '%s' "$curve_rows"
echo
echo "$summary"

if [ "$record" -eq 1 ]; then
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  section=$(
    title="profile writer vs legacy vs nginx ceiling (bench/writer/run.sh)"
    [ "$WRITER_ONLY" = 1 ] && title="profile writer (bench/writer/run.sh) - writer only (FICUS_BENCH_WRITER_ONLY=1: no nginx, no legacy)"
    echo "## $(date -u +%Y-%m-%dT%H:%MZ) $title"
    echo
    echo "- Machine: $(nproc) CPUs, $cpu; $(uname -sr); load average before the run: $load_before; CPU reference (sha256 of 200 MB on CPU $SERVER_CPU): $calib_ms ms (shared machine: other engineers' builds and tests ran meanwhile)"
    echo "- Servers pinned to CPU $SERVER_CPU (writer: 1 event loop + group-commit thread + RocksDB background, durable: sync=true; nginx 1 worker; legacy nginx + php-fpm + MariaDB); wrk -t1 pinned to CPU $CLIENT_CPU; keep-alive; random user of 100k, 3 attributes (bench/lua/profile_update.lua with FICUS_BENCH_PREGEN=100000, reads bench/lua/profile_get.lua)"
    echo "- Open-loop curve: \`ficus-loadgen\` ($ARRIVAL arrivals, $WRITER_CONNS connections, 2 s warm-up + ${PACED_S} s per point, latency from each request's intended send time; pinned to CPU $CLIENT_CPU) at $CURVE % of the peak row's rate; load average sampled before each point"
    echo "- Command: \`bench/writer/run.sh\` (${DURATION} s per measured run)"
    echo
    echo "$table"
    echo
    echo "Latency vs offered rate (open loop; service = send -> answer as wrk would report it; send lag = time due requests waited for a free connection or the client's CPU; server > 10 ms = share of updates the writer's own histogram put over 10 ms; waiting for a CPU = time the writer's threads were runnable but not running, from /proc/PID/task/*/schedstat, summed over its threads, per second; windows: ficus-loadgen --timeline-ms 100, by intended send time, the worst one's start into the measured window):"
    echo
    echo "$curve_head"
    printf '%s' "$curve_rows"
    echo
    echo "$summary."
    if [ -n "$perf_top" ]; then
      echo
      echo "perf record -e cpu-clock of the writer during a peak run (self time, top symbols):"
      echo
      echo '```'
      echo "$perf_top"
      echo '```'
    fi
  )
  printf '\n%s\n' "$section" >>"$ROOT/bench/RESULTS.md"  # one append
  echo "recorded in bench/RESULTS.md"
fi
