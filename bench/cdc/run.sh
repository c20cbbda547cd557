#!/usr/bin/env bash
# Benchmark of the CDC follower (`profile-migrator follow`) against a real
# MariaDB with the binlog on and a real, durable profile-writer (RocksDB, WAL
# fsync before each 200), both started here on 127.0.0.1, stopped at the end.
#
#   bench/cdc/run.sh [--no-record]
#
# CPU split (2 cores): writer on CPU $FICUS_BENCH_WRITER_CPU (1); MariaDB, the
# SQL load and the follower on CPU $FICUS_BENCH_SOURCE_CPU (0), with taskset.
# Phases, each bounded by `timeout`:
#   1. throughput: FICUS_BENCH_CDC_ROWS (200,000) attribute rows are inserted
#      by SQL (1,000 rows per transaction) while no follower runs, then the
#      follower starts from the position before them; row events/s =
#      rows / time until its checkpoint reaches the server's position. CPU
#      of follower and writer from /proc -> CPU us per row event.
#   2. lag: a paced SQL load of FICUS_BENCH_CDC_RATE (5,000) rows/s for
#      FICUS_BENCH_CDC_LAG_S (20) s (2 clients, 100-row INSERTs stamped NOW(6), open-loop pacing) with the
#      follower running; lag from the follower's ficus_cdc_change_age_seconds
#      histogram (age of each row's own stamp when the writer acknowledged it:
#      end-to-end commit -> durable in the writer, p50/p99 to the bucket) and
#      ficus_cdc_lag_events sampled every 100 ms.
# Appends a dated section to bench/RESULTS.md unless --no-record.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MIGRATOR_BIN=${FICUS_MIGRATOR_BIN:-$BUILD_DIR/apps/profile-migrator/profile-migrator}
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}
ROWS=${FICUS_BENCH_CDC_ROWS:-200000}
RATE=${FICUS_BENCH_CDC_RATE:-5000}
LAG_S=${FICUS_BENCH_CDC_LAG_S:-20}
WRITER_CPU=${FICUS_BENCH_WRITER_CPU:-1}
SOURCE_CPU=${FICUS_BENCH_SOURCE_CPU:-0}
FOLLOW_ARGS=${FICUS_BENCH_FOLLOW_ARGS:-}
record=1
[ "${1:-}" = "--no-record" ] && record=0

"$ROOT/scripts/install-deps.sh" db tools
source "$ROOT/scripts/lib.sh"
for b in "$MIGRATOR_BIN" "$WRITER_BIN"; do
  [ -x "$b" ] || { echo "bench/cdc: no binary at $b (make build-all)" >&2; exit 1; }
done
load_before=$(cut -d" " -f1-3 /proc/loadavg)
uptime_before=$(uptime)
state=$(mktemp -d /tmp/ficus-bench-cdc.XXXXXX)
writer_pid=""
follow_pid=""
cleanup() {
  [ -n "$follow_pid" ] && kill -TERM "$follow_pid" 2>/dev/null && wait "$follow_pid" 2>/dev/null
  [ -n "$writer_pid" ] && kill -TERM "$writer_pid" 2>/dev/null && wait "$writer_pid" 2>/dev/null
  "$ROOT/scripts/stack/legacy-stack.sh" stop "$state/legacy" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
say() { echo "bench/cdc: $*" >&2; }
cpu_s() {  # cpu_s PID: user+system CPU seconds of a process (threads included)
  awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$1/stat"
}

env_lines=$(taskset -c "$SOURCE_CPU" "$ROOT/scripts/stack/legacy-stack.sh" start-mysql "$state/legacy")
set -a
eval "$env_lines"
set +a
sql() {
  mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" -N -B -e "$1"
}
mkdir -p "$state/writer"
# Bulk path: the writer's import endpoint with a token both sides read
# (FICUS_BENCH_CDC_BULK=0: no token, the single-update API).
if [ "${FICUS_BENCH_CDC_BULK:-1}" = 1 ]; then
  echo "bench:cdc-bench-secret" >"$state/bulk.token"
  export FICUS_WRITER_BULK_TOKEN_FILE=$state/bulk.token
  path_note="bulk import"
else
  unset FICUS_WRITER_BULK_TOKEN_FILE
  path_note="single-update API"
fi
taskset -c "$WRITER_CPU" "$WRITER_BIN" --listen 127.0.0.1:0 --data-dir "$state/writer" \
  >"$state/writer.out" 2>"$state/writer.log" &
writer_pid=$!
for _ in $(seq 100); do
  url=$(sed -n 's/^profile-writer listening on \(http:[^ ]*\).*/\1/p' "$state/writer.out")
  [ -n "$url" ] && break
  sleep 0.1
done
[ -n "$url" ] || { say "writer did not start"; exit 1; }

start_follow() {
  rm -f "$state/metrics.port"
  # shellcheck disable=SC2086
  taskset -c "$SOURCE_CPU" "$MIGRATOR_BIN" follow --writer-url "$url" --checkpoint "$state/binlog.cp" \
    --metrics-listen 127.0.0.1:0 --metrics-port-file "$state/metrics.port" $FOLLOW_ARGS "$@" \
    >>"$state/follow.out" 2>>"$state/follow.log" &
  follow_pid=$!
  for _ in $(seq 100); do [ -s "$state/metrics.port" ] && break; sleep 0.05; done
  metrics=http://127.0.0.1:$(cat "$state/metrics.port")/metrics
}
wait_caught_up() {  # wait_caught_up TIMEOUT_S
  local target i
  target=$(sql "SELECT @@gtid_binlog_pos")
  for ((i = 0; i < $1 * 20; i++)); do
    [ "$(jq -r .gtid "$state/binlog.cp" 2>/dev/null)" = "$target" ] && return 0
    sleep 0.05
  done
  say "follower did not catch up in $1 s"
  return 1
}

# --- 1. throughput
start_pos=$(sql "SELECT @@gtid_binlog_pos")
say "inserting $ROWS rows (1,000 per transaction) with no follower running"
for ((b = 0; b < ROWS / 1000; b++)); do
  echo "INSERT INTO profile_attributes SELECT CONCAT(LPAD(LOWER(HEX($b * 1000 + seq)), 8, '0'), '-3333-4000-8000-000000000000'), 'k', CONCAT('v', seq), 1700000000000000 + seq FROM seq_1_to_1000;"
done | taskset -c "$SOURCE_CPU" mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB"
w0=$(cpu_s "$writer_pid")
m0=$(cpu_s "$(cat "$state/legacy/mariadb/mysqld.pid")")
t0=$(date +%s.%N)
start_follow --start-gtid "$start_pos"
# FICUS_BENCH_CDC_PERF=1: sample follower and writer (perf record -g) during
# the throughput phase; the top symbols of each go to stderr and the record.
perf_pids=()
if [ "${FICUS_BENCH_CDC_PERF:-0}" = 1 ] && command -v perf >/dev/null; then
  perf record -F 499 -g -p "$follow_pid" -o "$state/follow.perf" >/dev/null 2>&1 &
  perf_pids+=($!)
  perf record -F 499 -g -p "$writer_pid" -o "$state/writer.perf" >/dev/null 2>&1 &
  perf_pids+=($!)
fi
# Timeline of the throughput phase (every 200 ms: seconds, events received,
# rows acknowledged, rows read and not acknowledged) to tell reading from applying.
( while sleep 0.2; do
    curl -s "$metrics" | awk -v t="$(date +%s.%N)" '$1 == "ficus_cdc_events_total" {e = $2}
      $1 == "ficus_cdc_rows_applied_total" {r = $2} $1 == "ficus_cdc_lag_events" {l = $2}
      END {printf "%.1f %s %s %s\n", t, e, r, l}'
  done >"$state/timeline" ) &
timeline_pid=$!
timeout 900 bash -c "$(declare -f wait_caught_up sql say); state=$state; FICUS_MYSQL_SOCKET=$FICUS_MYSQL_SOCKET FICUS_MYSQL_USER=$FICUS_MYSQL_USER FICUS_MYSQL_PASSWORD=$FICUS_MYSQL_PASSWORD FICUS_MYSQL_DB=$FICUS_MYSQL_DB; wait_caught_up 900"
t1=$(date +%s.%N)
f1=$(cpu_s "$follow_pid")
kill "$timeline_pid" 2>/dev/null || true
m1=$(cpu_s "$(cat "$state/legacy/mariadb/mysqld.pid")")
say "timeline (s events rows_applied lag_events): $(awk 'NR == 1 {t0 = $1} {printf "%.1f %s %s %s | ", $1 - t0, $2, $3, $4}' "$state/timeline")"
perf_top=""
if [ ${#perf_pids[@]} -gt 0 ]; then
  kill -INT "${perf_pids[@]}" 2>/dev/null || true
  wait "${perf_pids[@]}" 2>/dev/null || true
  for p in follow writer; do
    perf report -i "$state/$p.perf" --no-children --sort dso,symbol --stdio -g none \
      >"$state/$p.report" 2>/dev/null || true
    top=$(grep -E '^ +[0-9.]+%' "$state/$p.report" | sed -n '1,12p' | sed 's/^ *//' |
      awk '{$2 = ""; sub(/ - -$/, ""); print substr($0, 1, 80)}' | paste -sd';' -)
    say "perf $p: $top"
    perf_top+="
- perf top symbols ($p, self time, throughput phase): $top"
  done
fi
w1=$(cpu_s "$writer_pid")
applied=$(curl -s "$metrics" | awk '$1 == "ficus_cdc_rows_applied_total" {print $2}')
updates=$(curl -s "$metrics" | awk '$1 == "ficus_cdc_updates_sent_total" {print $2}')
read -r tput f_us w_us m_us secs < <(awk -v r="$applied" -v a="$t0" -v b="$t1" -v f="$f1" -v w0="$w0" -v w1="$w1" -v m0="$m0" -v m1="$m1" \
  'BEGIN { s = b - a; printf "%.0f %.1f %.1f %.1f %.2f\n", r / s, f * 1e6 / r, (w1 - w0) * 1e6 / r, (m1 - m0) * 1e6 / r, s }')
say "throughput: $applied row events in $secs s = $tput/s; follower $f_us us CPU/event, writer $w_us us CPU/event, MariaDB $m_us us CPU/event ($updates updates)"

# --- 2. lag under a paced load
say "paced SQL load: $RATE rows/s for $LAG_S s"
age_before=$(curl -s "$metrics" | grep '^ficus_cdc_change_age_seconds_bucket' | awk '{print $2}' | paste -sd' ')
per_stmt=100
clients=2
stmts_per_s=$((RATE / per_stmt / clients))
interval=$(awk -v n="$stmts_per_s" 'BEGIN { printf "%.6f", 1 / n }')
# Open-loop pacing: statement i of a client is due at t0 + i * interval; a late
# statement does not push the later ones back.
for ((c = 0; c < clients; c++)); do
  {
    echo "SET @t0 = UNIX_TIMESTAMP(NOW(6));"
    for ((i = 0; i < LAG_S * stmts_per_s; i++)); do
      echo "INSERT INTO profile_attributes SELECT CONCAT(LPAD(LOWER(HEX($i * $per_stmt + seq)), 8, '0'), '-4444-4000-8000-00000000000$c'), 'k', 'v', CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) FROM seq_1_to_$per_stmt; DO SLEEP(GREATEST(0, @t0 + $((i + 1)) * $interval - UNIX_TIMESTAMP(NOW(6))));"
    done
  } >"$state/paced$c.sql"
done
lag_max=0
l0=$(date +%s.%N)
load_pids=()
for ((c = 0; c < clients; c++)); do
  taskset -c "$SOURCE_CPU" mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" <"$state/paced$c.sql" &
  load_pids+=($!)
done
while kill -0 "${load_pids[0]}" 2>/dev/null || kill -0 "${load_pids[1]}" 2>/dev/null; do
  le=$(curl -s "$metrics" | awk '$1 == "ficus_cdc_lag_events" {print $2}')
  [ "${le:-0}" -gt "$lag_max" ] && lag_max=$le
  sleep 0.1
done
l1=$(date +%s.%N)
wait_caught_up 120
offered=$(awk -v n=$((LAG_S * stmts_per_s * per_stmt * clients)) -v a="$l0" -v b="$l1" 'BEGIN { printf "%.0f", n / (b - a) }')
age_after=$(curl -s "$metrics" | grep '^ficus_cdc_change_age_seconds_bucket' | awk '{print $2}' | paste -sd' ')
les=$(curl -s "$metrics" | grep '^ficus_cdc_change_age_seconds_bucket' | sed 's/.*le="\([^"]*\)".*/\1/' | paste -sd' ')
pct() {  # pct Q: the bucket bound under which Q of the paced rows' ages fall
  awk -v q="$1" -v b="$age_before" -v a="$age_after" -v l="$les" 'BEGIN {
    n = split(b, B, " "); split(a, A, " "); split(l, L, " ");
    tot = A[n] - B[n];
    for (i = 1; i <= n; i++) if ((A[i] - B[i]) >= q * tot) { print "<= " L[i] " s"; exit }
  }'
}
p50=$(pct 0.5)
p99=$(pct 0.99)
say "lag at $offered rows/s offered: change age p50 $p50, p99 $p99; lag_events max $lag_max"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

if [ $record -eq 1 ]; then
  cat >>"$ROOT/bench/RESULTS.md" <<REC

## CDC follower (profile-migrator follow), $(date -u +%Y-%m-%dT%H:%MZ)

- Command: \`bench/cdc/run.sh\` (FICUS_BENCH_CDC_ROWS=$ROWS, FICUS_BENCH_CDC_RATE=$RATE, FICUS_BENCH_CDC_LAG_S=$LAG_S${FOLLOW_ARGS:+, FICUS_BENCH_FOLLOW_ARGS="$FOLLOW_ARGS"})
- Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2 / 1048576}' /proc/meminfo); load average before $load_before, after $load_after (shared with other engineers' builds and tests: a busy machine)
- uptime before: $uptime_before; after: $(uptime)
- Stack: MariaDB $(mariadbd --version | awk '{print $3}') (binlog ROW/FULL, sync_binlog=1), SQL load and follower on CPU $SOURCE_CPU; profile-writer (RocksDB, durable) on CPU $WRITER_CPU; $path_note ($updates updates for $applied rows; $(curl -s "$metrics" | awk '$1 == "ficus_cdc_apply_calls_total" {print $2}') acknowledged batches)
- Throughput (backlog of $ROWS inserted rows, 1,000 per transaction): **$tput row events/s** applied ($secs s); CPU per row event: follower $f_us us, writer $w_us us, MariaDB (binlog dump) $m_us us${perf_top}
- Lag under a paced SQL load ($offered rows/s achieved of $RATE offered, 2 clients, 100-row INSERTs): age of each row at the writer's acknowledgement p50 $p50, p99 $p99 (histogram buckets 0.01/0.05/0.1/0.25/0.5/1/2 s); ficus_cdc_lag_events at most $lag_max
REC
  say "recorded in bench/RESULTS.md"
fi
