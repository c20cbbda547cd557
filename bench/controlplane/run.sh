#!/usr/bin/env bash
# Cost of the migration control plane in ficus-proxy, all phases in one run:
#
#   bench/controlplane/run.sh [--no-record]
#
# Same proxy binary, same upstreams, same load; only the route's mode changes
# (two rounds of the four phases, mirroring phases first in each):
#   legacy          plain pass-through to legacy (the baseline)
#   shadow          every write mirrored to modern, both answers compared
#                   (JSON diff with compare.ignore), failed copies appended to the replay log
#   canary100       cohort = everyone: writes served by modern and reverse-
#                   mirrored to legacy, persisted to the replay log (group-
#                   committed fdatasync) BEFORE the answer unless the legacy
#                   copy already landed (replay.durable_to_legacy: true)
#   canary100-nodur the same without the pre-answer persist
#                   (replay.durable_to_legacy: false): isolates its cost
#   *-grace0        the same with replay.persist_grace_ms: 0 (persist at
#                   once instead of waiting up to 2 ms for the copy to land)
#   shadow-nodur    shadow without persisting legacy-served writes for
#                   modern (replay.durable_to_modern: false): isolates that
#                   persist's cost
#   *-nointents     the same without write intents (replay.intents: false):
#                   isolates the cost of recording each mirrored write
#                   before it leaves (the proxy kill -9 window)
# FICUS_BENCH_PHASES="shadow canary100 ..." runs only those phases (and
# legacy, the baseline). A phase named NAME@before runs NAME with the binary
# $FICUS_PROXY_BIN_BEFORE (an A/B of two builds in one run, interleaved).
# Besides requests/s, each phase reports the proxy's own CPU per request
# (utime+stime from /proc/PID/stat over the measured run / requests) and how
# busy each of the two CPUs was (from /proc/stat), so a phase whose client
# core saturated is visible as such.
# Upstreams: two real profile-writer processes (RocksDB) standing in for
# legacy and modern (same API; the legacy route is rewritten to /api/v2), run
# with --unsafe-no-sync so their own fsyncs do not drown the proxy's. CPUs:
# ficus-proxy (1 event loop) alone on CPU $FICUS_BENCH_SERVER_CPU (1); wrk
# (-t1) and both writers on CPU $FICUS_BENCH_CLIENT_CPU (0). Load: POST
# /api/v1/profile/update, random user of 100k, 3 attributes, keep-alive,
# $FICUS_BENCH_CONNS (16) connections, 2 s warm-up then
# $FICUS_BENCH_DURATION_S (10) s per phase. The replay log (fdatasync'd) is
# in a fresh directory under /tmp for every phase. Appends a dated section to
# bench/RESULTS.md unless --no-record. FICUS_BENCH_PERF=1 adds a perf profile
# (self time, top symbols) of the proxy in each phase of round 1.
# Open loop (latency at a given rate, no coordinated omission): after the
# rounds, shadow, canary100 and legacy once more under `ficus-loadgen`
# (Poisson, latency from each request's intended send time) at one rate,
# FICUS_BENCH_OPEN_RATE (default FICUS_BENCH_OPEN_PCT (60) % of the slowest
# of the three in round 1), FICUS_BENCH_OPEN_S (10) s after a 2 s warm-up;
# FICUS_BENCH_OPEN_S=0 skips it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
PROXY_BIN=${FICUS_PROXY_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-proxy}
BEFORE_BIN=${FICUS_PROXY_BIN_BEFORE:-$PROXY_BIN}
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}
DURATION=${FICUS_BENCH_DURATION_S:-10}
CONNS=${FICUS_BENCH_CONNS:-16}
SERVER_CPU=${FICUS_BENCH_SERVER_CPU:-1}
CLIENT_CPU=${FICUS_BENCH_CLIENT_CPU:-0}
LOADGEN_BIN=${FICUS_LOADGEN_BIN:-$BUILD_DIR/bench/loadgen/ficus-loadgen}
OPEN_S=${FICUS_BENCH_OPEN_S:-10}
OPEN_PCT=${FICUS_BENCH_OPEN_PCT:-60}
record=1
[ "${1:-}" = "--no-record" ] && record=0
for b in wrk taskset curl jq; do
  command -v "$b" >/dev/null || { echo "bench/controlplane: $b missing" >&2; exit 1; }
done
for b in "$PROXY_BIN" "$WRITER_BIN"; do
  [ -x "$b" ] || { echo "bench/controlplane: no binary at $b (make build-all)" >&2; exit 1; }
done
[ "$OPEN_S" = 0 ] || [ -x "$LOADGEN_BIN" ] || { echo "bench/controlplane: no binary at $LOADGEN_BIN (make build-all, or FICUS_BENCH_OPEN_S=0)" >&2; exit 1; }
source "$ROOT/scripts/lib.sh"

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
state=$(mktemp -d /tmp/ficus-bench-cp.XXXXXX)
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  [ -n "${FICUS_BENCH_KEEP:-}" ] && echo "state kept in $state" >&2 || rm -rf "$state"
}
trap cleanup EXIT
say() { echo "bench/controlplane: $*" >&2; }

start_writer() {  # start_writer NAME PORT
  taskset -c "$CLIENT_CPU" "$WRITER_BIN" --listen "127.0.0.1:$2" --data-dir "$state/$1" \
    --threads 1 --unsafe-no-sync --log-level warn >"$state/$1.out" 2>&1 &
  pids+=($!)
  wait_port 127.0.0.1 "$2" 20
}
legacy_port=$(free_port)
modern_port=$(free_port)
start_writer legacy "$legacy_port"
start_writer modern "$modern_port"

proxy_port=$(free_port)
admin_port=$(free_port)
proxy_pid=""
start_proxy() {  # start_proxy PHASE MODE PERCENT DURABLE [DURABLE_TO_MODERN] [GRACE_MS] [INTENTS]
  local d=$state/$1
  mkdir -p "$d"
  local intents_key=""  # only when off: a @before binary may not know the key
  [ "${7:-true}" = false ] && intents_key=", intents: false"
  cat >"$d/proxy.yaml" <<EOF
listen: 127.0.0.1:$proxy_port
admin: {listen: 127.0.0.1:$admin_port}
workers: 1
access_log: "off"
replay: {dir: replay, durable_to_legacy: $4, durable_to_modern: ${5:-true}, persist_grace_ms: ${6:-2}$intents_key}
backends:
  legacy: {url: http://127.0.0.1:$legacy_port}
  modern: {url: http://127.0.0.1:$modern_port}
cohorts:
  profiles: {key: [json:user_id], salt: "bench"}
routes:
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {legacy: /api/v2/profile/update, modern: /api/v2/profile/update}
    cohort: profiles
    mode: $2
    percent: $3
    compare: {ignore: [data.updated_at]}
EOF
  local bin=$PROXY_BIN
  [[ "$1" == *@before* ]] && bin=$BEFORE_BIN
  taskset -c "$SERVER_CPU" "$bin" --config "$d/proxy.yaml" >"$d/proxy.out" 2>&1 &
  proxy_pid=$!
  pids+=("$proxy_pid")
  wait_port 127.0.0.1 "$proxy_port" 20
  wait_port 127.0.0.1 "$admin_port" 20
}
stop_proxy() {
  kill -TERM "$proxy_pid" 2>/dev/null || true
  wait "$proxy_pid" 2>/dev/null || true
}

proc_cpu_ticks() {  # utime + stime of PID, in clock ticks
  awk '{print $14 + $15}' "/proc/$1/stat"
}
cpu_busy() {  # "busy total" jiffies of CPU N
  awk -v c="cpu$1" '$1 == c {t = 0; for (i = 2; i <= NF; i++) t += $i; print t - $5 - $6, t}' /proc/stat
}
# run_phase NAME MODE PERCENT DURABLE [DURABLE_TO_MODERN] [GRACE_MS] [INTENTS]: prints
# "rps p50 p99 errors us_per_req srv_busy cli_busy extra"
run_phase() {
  local name=$1 out line m
  start_proxy "$name" "$2" "$3" "$4" "${5:-true}" "${6:-2}" "${7:-true}"
  export FICUS_BENCH_PATH=/api/v1/profile/update
  taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d2s -s "$ROOT/bench/lua/profile_update.lua" \
    "http://127.0.0.1:$proxy_port" >/dev/null 2>&1 || true
  say "$name: taskset -c $CLIENT_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency -s bench/lua/profile_update.lua http://127.0.0.1:$proxy_port (mode $2, percent $3, durable_to_legacy $4, persist_grace_ms ${6:-2}, intents ${7:-true})"
  local t0 t1 s0 s1 c0 c1
  t0=$(proc_cpu_ticks "$proxy_pid")
  s0=$(cpu_busy "$SERVER_CPU")
  c0=$(cpu_busy "$CLIENT_CPU")
  local perf_pid=""
  if [ "${FICUS_BENCH_PERF:-0}" = 1 ] && [ "${name##*.}" = 1 ]; then
    taskset -c "$CLIENT_CPU" perf record -e cpu-clock -F 999 -g -p "$proxy_pid" -o "$state/perf.$name" \
      -- sleep "$DURATION" >/dev/null 2>&1 &
    perf_pid=$!
  fi
  local stat_pid=""
  if [ "${FICUS_BENCH_SYSCALLS:-0}" = 1 ] && [ "${name##*.}" = 2 ]; then
    taskset -c "$CLIENT_CPU" perf stat -x, -e raw_syscalls:sys_enter -e context-switches \
      -p "$proxy_pid" -o "$state/stat.$name" -- sleep "$DURATION" >/dev/null 2>&1 &
    stat_pid=$!
  fi
  out=$(taskset -c "$CLIENT_CPU" wrk -t1 -c"$CONNS" -d"${DURATION}s" --latency \
    -s "$ROOT/bench/lua/profile_update.lua" "http://127.0.0.1:$proxy_port")
  local sys_note=""
  if [ -n "$stat_pid" ]; then
    wait "$stat_pid" || true
    local nsys ncs nreq
    nsys=$(awk -F, '$3 == "raw_syscalls:sys_enter" {print $1}' "$state/stat.$name")
    ncs=$(awk -F, '$3 == "context-switches" {print $1}' "$state/stat.$name")
    nreq=$(sed -n 's/.* requests=\([0-9]*\).*/\1/p' <<<"$(grep '^FICUS_BENCH ' <<<"$out")")
    sys_note=$(awk -v s="$nsys" -v c="$ncs" -v r="$nreq" \
      'BEGIN { if (r > 0) printf " syscalls/req=%.2f ctxsw/req=%.3f", s / r, c / r }')
  fi
  if [ -n "$perf_pid" ]; then
    wait "$perf_pid" || true
    { echo "### ${name%.*}: ficus-proxy self time, top 20 (perf record -e cpu-clock, all its threads)"
      echo; echo '```'
      perf report -i "$state/perf.$name" --no-children --sort dso,sym --stdio -g none 2>/dev/null |
        grep "%" | grep -v "^#" | head -20 || true
      echo '```'; echo; } >>"$state/perf.txt"
  fi
  t1=$(proc_cpu_ticks "$proxy_pid")
  s1=$(cpu_busy "$SERVER_CPU")
  c1=$(cpu_busy "$CLIENT_CPU")
  line=$(grep '^FICUS_BENCH ' <<<"$out")
  m=$(curl -s "http://127.0.0.1:$admin_port/metrics")
  local compared mism appended mirrors_ok graced
  compared=$(awk '/^ficus_proxy_compared_total\{/ {n += $2} END {print n + 0}' <<<"$m")
  mism=$(awk '/^ficus_proxy_mismatches_total\{/ {n += $2} END {print n + 0}' <<<"$m")
  appended=$(awk '$1 == "ficus_proxy_replay_appended_total" {n += $2} END {print n + 0}' <<<"$m")
  mirrors_ok=$(awk '/^ficus_proxy_mirror_total\{.*outcome="ok"/ {n += $2} END {print n + 0}' <<<"$m")
  graced=$(awk '$1 == "ficus_proxy_persist_graced_total" {n += $2} END {print n + 0}' <<<"$m")
  stop_proxy
  local rps p50 p99 errs
  rps=$(sed -n 's/.* rps=\([0-9.]*\).*/\1/p' <<<"$line")
  p50=$(sed -n 's/.* p50_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  p99=$(sed -n 's/.* p99_ms=\([0-9.]*\).*/\1/p' <<<"$line")
  errs=$(sed -n 's/.* errors_4xx_5xx=\([0-9]*\).*/\1/p' <<<"$line")
  local hz us srv cli
  hz=$(getconf CLK_TCK)
  us=$(awk -v a="$t0" -v b="$t1" -v hz="$hz" -v r="$rps" -v d="$DURATION" \
    'BEGIN { if (r > 0) printf "%.1f", (b - a) / hz * 1e6 / (r * d); else print "-" }')
  srv=$(awk -v a="$s0" -v b="$s1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f%%", (y[1] - x[1]) / (y[2] - x[2]) * 100 }')
  cli=$(awk -v a="$c0" -v b="$c1" 'BEGIN { split(a, x, " "); split(b, y, " "); printf "%.0f%%", (y[1] - x[1]) / (y[2] - x[2]) * 100 }')
  echo "$rps $p50 $p99 $errs $us $srv $cli mirrors_ok=${mirrors_ok:-0} compared=${compared:-0} mismatches=${mism:-0} persisted=${appended:-0} graced=${graced:-0}$sys_note"
}

# Mirroring phases first: both writers then receive every write from the
# start, so their profiles stay identical and a mismatch would be real.
# Two rounds, to show the run-to-run noise of a shared machine; "vs legacy"
# compares with the legacy pass-through of the same round number.
declare -A R SPEC
SPEC[shadow]="shadow 0 true"
SPEC[shadow-grace0]="shadow 0 true true 0"
SPEC[shadow-nodur]="shadow 0 true false"
SPEC[shadow-nointents]="shadow 0 true true 2 false"
SPEC[canary100]="canary 100 true"
SPEC[canary100-grace0]="canary 100 true true 0"
SPEC[canary100-nodur]="canary 100 false"
SPEC[canary100-nointents]="canary 100 true true 2 false"
read -r -a phases <<<"${FICUS_BENCH_PHASES:-shadow shadow-grace0 shadow-nodur shadow-nointents canary100 canary100-grace0 canary100-nodur canary100-nointents}"
for round in 1 2; do
  for k in "${phases[@]}"; do
    spec=${SPEC[${k%@before}]:-}
    [ "${k%@before}" = legacy ] && spec="legacy 0 true"
    [ -n "$spec" ] || { echo "bench/controlplane: unknown phase $k" >&2; exit 2; }
    # shellcheck disable=SC2086
    R[$k.$round]=$(run_phase "$k.$round" $spec)
  done
done
phases+=(legacy)
# The baseline last (it writes to legacy only, so the stores diverge after it).
for round in 1 2; do
  R[legacy.$round]=$(run_phase "legacy.$round" legacy 0 true)
done

table="| round | phase | updates/s | p50 ms | p99 ms | non-2xx | proxy CPU µs/req | CPU$SERVER_CPU (proxy) / CPU$CLIENT_CPU (wrk+upstreams) busy | vs legacy (same round): rps, µs/req | control-plane counters |
|---|---|---:|---:|---:|---:|---:|---|---|---|"
for round in 1 2; do
  read -r brps _ bp99 _ bus _ <<<"${R[legacy.$round]}"
  for k in "${phases[@]}"; do
    read -r rps p50 p99 errs us srv cli extra <<<"${R[$k.$round]}"
    rel=$(awk -v a="$rps" -v b="$brps" -v u="$us" -v v="$bus" \
      'BEGIN { if (b > 0 && u > 0) printf "%.2fx rps, %.2fx CPU/req (%.2fx req per CPU-s)", a / b, u / v, v / u; else print "-" }')
    table+=$'\n'"| $round | $k | $rps | $p50 | $p99 | $errs | $us | $srv / $cli | $rel | ${extra} |"
  done
done
echo "$table"

# --- open loop: shadow, canary100, legacy at one offered rate (legacy last:
# it writes to one store only)
open_table=""
open_rate=""
if [ "$OPEN_S" != 0 ]; then
  open_rate=${FICUS_BENCH_OPEN_RATE:-$(for k in shadow canary100 legacy; do echo "${R[$k.1]}" | awk '{print $1}'; done |
    sort -g | head -1 | awk -v p="$OPEN_PCT" '{printf "%d", $1 * p / 100}')}
  open_phase() {  # open_phase NAME MODE PERCENT: one table row
    local json t0 t1 us
    start_proxy "open-$1" "$2" "$3" true
    say "open loop $1: taskset -c $CLIENT_CPU ficus-loadgen --rate $open_rate --arrival poisson -c $CONNS --warmup-s 2 --duration-s $OPEN_S"
    t0=$(proc_cpu_ticks "$proxy_pid")
    json=$(taskset -c "$CLIENT_CPU" "$LOADGEN_BIN" --url "http://127.0.0.1:$proxy_port/api/v1/profile/update" \
      --rate "$open_rate" --arrival poisson -c "$CONNS" --warmup-s 2 --duration-s "$OPEN_S" \
      --method POST -H 'Content-Type: application/json' \
      --body '{"user_id":"{user}","attributes":{{attrs:3}}}' --label "cp-$1" 2>/dev/null) || json='{}'
    t1=$(proc_cpu_ticks "$proxy_pid")
    stop_proxy
    us=$(jq -r --arg a "$t0" --arg b "$t1" --arg hz "$(getconf CLK_TCK)" --arg d "$OPEN_S" \
      'if (.achieved_rate // 0) > 0 then (($b|tonumber) - ($a|tonumber)) / ($hz|tonumber) * 1e6 / (.achieved_rate * (($d|tonumber) + 2)) | . * 10 | floor / 10 else "-" end' <<<"$json")
    jq -r --arg l "$1" --arg us "$us" '"| \($l) | \(.achieved_rate // 0 | floor) | \(.latency_ms.p50) | \(.latency_ms.p99) | \(.latency_ms.p99_9) | \(.latency_ms.max) | \(.send_lag_ms.p99) | \(.errors.total) | \($us) |"' <<<"$json"
  }
  open_table="| phase (offered $open_rate updates/s, Poisson) | achieved/s | p50 ms | p99 ms | p99.9 ms | max ms | send lag p99 ms | errors | proxy CPU µs/req (warm-up included, at the achieved rate) |
|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  open_table+=$'\n'$(open_phase shadow shadow 0)
  open_table+=$'\n'$(open_phase canary100 canary 100)
  open_table+=$'\n'$(open_phase legacy legacy 0)
  echo "$open_table"
fi

if [ "$record" = 1 ]; then
  cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
  cat >>"$ROOT/bench/RESULTS.md" <<EOF

## $(date -u +%Y-%m-%dT%H:%MZ) strangler-proxy control plane: shadow compare and canary reverse mirroring vs legacy pass-through

- Machine: $(nproc) CPUs, $cpu; load average before the run: $load_before (shared machine: other engineers' builds and tests were running)
- ficus-proxy 1 event loop on CPU $SERVER_CPU; wrk -t1 and two profile-writer upstreams (legacy and modern stand-ins, --unsafe-no-sync) on CPU $CLIENT_CPU
- Load: POST /api/v1/profile/update, random user of 100k, 3 attributes, $CONNS keep-alive connections, 2 s warm-up + ${DURATION} s per phase, all phases in one run
- Command: \`bench/controlplane/run.sh\` (per phase: \`taskset -c $CLIENT_CPU wrk -t1 -c$CONNS -d${DURATION}s --latency -s bench/lua/profile_update.lua http://127.0.0.1:PORT\`)

$table

shadow = every write mirrored to modern and both answers JSON-compared;
canary100 = every write served by modern, reverse-mirrored to legacy and
persisted to the replay log before the answer unless the legacy copy had
already landed (persisted = records written, fdatasync group-committed);
canary100-nodur = the same without the pre-answer persist; shadow-nodur =
shadow without persisting legacy-served writes for modern; *-nointents =
without write intents (replay.intents: false); *-grace0 = with
replay.persist_grace_ms 0 (persist at once; the default waits up to 2 ms for
the copy to land, graced = writes that needed no record thanks to it).
proxy CPU µs/req =
the proxy's utime+stime over the measured run divided by its requests; the
busy columns say which core was saturated.
EOF
  if [ -n "$open_table" ]; then
    { echo
      echo "Open loop at one rate (\`taskset -c $CLIENT_CPU ficus-loadgen --url http://127.0.0.1:PORT/api/v1/profile/update --rate $open_rate --arrival poisson -c $CONNS --warmup-s 2 --duration-s $OPEN_S --method POST --body '{\"user_id\":\"{user}\",\"attributes\":{{attrs:3}}}'\`; $OPEN_PCT% of the slowest of shadow/canary100/legacy in round 1 unless FICUS_BENCH_OPEN_RATE; latency from each request's intended send time):"
      echo
      echo "$open_table"; } >>"$ROOT/bench/RESULTS.md"
  fi
  [ -f "$state/perf.txt" ] && { echo; cat "$state/perf.txt"; } >>"$ROOT/bench/RESULTS.md"
  say "appended to bench/RESULTS.md"
fi
