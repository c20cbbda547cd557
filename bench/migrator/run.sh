#!/usr/bin/env bash
# Benchmark of profile-migrator: backfill profiles/s for FICUS_BENCH_ROWS (1,000,000)
# legacy profiles and verify users/s, on both paths in the same run: the
# per-update API (one HTTP request per update / per user read, what an older
# writer gets: --bulk off) and the writer's bulk endpoints (NDJSON import, one
# group commit per request; bulk read), each into a fresh writer data dir;
# against a real MariaDB (legacy-stack.sh start-mysql) and a real, durable
# profile-writer (RocksDB, WAL fsync before each 200), both started here on
# 127.0.0.1 and stopped at the end.
#
#   bench/migrator/run.sh [--no-record]
#
# CPU split (2 cores): the writer on CPU $FICUS_BENCH_WRITER_CPU (1), MariaDB
# and the migrator on CPU $FICUS_BENCH_SOURCE_CPU (0), all with taskset
# (threads and children inherit it). Each profile has 3 keys (plan, locale at
# one stamp, nickname at another; every 10th nickname a tombstone), so a
# profile is 2 timestamped updates to the writer.
# Phases, each bounded by `timeout`:
#   1. generate the rows in MariaDB (INSERT ... SELECT from seq_A_to_B)
#   2. per-update path: backfill, then verify (0 mismatches expected) the first
#      FICUS_BENCH_PER_UPDATE_ROWS (100,000) profiles, --workers
#      $FICUS_BENCH_WORKERS (default: the migrator's)
#   3. bulk path, fresh writer: generate the rest, then the same two on all
#      rows (default workers and batch size)
#   Between a backfill and its verify the script waits until the writer is idle
#   (its flushes and compactions done, at most FICUS_BENCH_SETTLE_S = 90 s) and
#   charges that writer CPU to the backfill.
#   4. optional worker sweep of the per-update path (FICUS_BENCH_SWEEP, "8 16 32
#      64 128"), FICUS_BENCH_SWEEP_ROUNDS (0: off) rounds, the second in reverse order (a drift in the machine's load
#      then shows as disagreeing rounds, not as a trend): backfill --restart for
#      FICUS_BENCH_SWEEP_S (12) s, then SIGINT, rate from the summary (a replay
#      of already-copied users: the writer does the same merge and history
#      append, so the points compare with each other); the same for verify
# CPU seconds of writer, MariaDB and migrator per phase come from /proc, as
# do the busy seconds of all CPUs ("others" = the rest of the machine, i.e.
# the other engineers' processes) and group-commit figures from the writer's
# /metrics: together they show what limits. "per pipeline CPU-s" = users done
# per CPU second of migrator + writer + MariaDB: the efficiency, which the
# machine's load disturbs far less than the rate.
# Appends a dated section to bench/RESULTS.md unless --no-record.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD_DIR=${BUILD_DIR:-$ROOT/build}
MIGRATOR_BIN=${FICUS_MIGRATOR_BIN:-$BUILD_DIR/apps/profile-migrator/profile-migrator}
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}
ROWS=${FICUS_BENCH_ROWS:-1000000}
# The per-update path runs on the first PER_UPDATE_ROWS profiles (default
# 100,000: at a few thousand profiles/s all of 1 M would take minutes per
# phase on this shared machine); the bulk path then runs on all ROWS.
PER_UPDATE_ROWS=${FICUS_BENCH_PER_UPDATE_ROWS:-100000}
[ "$PER_UPDATE_ROWS" -gt "$ROWS" ] && PER_UPDATE_ROWS=$ROWS
WORKERS=${FICUS_BENCH_WORKERS:-}
SWEEP=${FICUS_BENCH_SWEEP:-8 16 32 64 128}
SWEEP_S=${FICUS_BENCH_SWEEP_S:-12}
ROUNDS=${FICUS_BENCH_SWEEP_ROUNDS:-0}
WRITER_CPU=${FICUS_BENCH_WRITER_CPU:-1}
SOURCE_CPU=${FICUS_BENCH_SOURCE_CPU:-0}
PHASE_TIMEOUT=${FICUS_BENCH_PHASE_TIMEOUT_S:-900}
SETTLE_S=${FICUS_BENCH_SETTLE_S:-90}
record=1
[ "${1:-}" = "--no-record" ] && record=0

"$ROOT/scripts/install-deps.sh" db tools
source "$ROOT/scripts/lib.sh"
for b in "$MIGRATOR_BIN" "$WRITER_BIN"; do
  [ -x "$b" ] || { echo "bench/migrator: no binary at $b (make build-all, or BUILD_DIR=...)" >&2; exit 1; }
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
state=$(mktemp -d /tmp/ficus-bench-migrator.XXXXXX)
writer_pid=""
cleanup() {
  if [ -n "$writer_pid" ]; then
    kill -TERM "$writer_pid" 2>/dev/null && wait "$writer_pid" 2>/dev/null
  fi
  "$ROOT/scripts/stack/legacy-stack.sh" stop "$state/legacy" >/dev/null 2>&1 || true
  rm -rf "$state"
}
trap cleanup EXIT
say() { echo "bench/migrator: $*" >&2; }

# --- servers
say "MariaDB on CPU $SOURCE_CPU ($state)"
env_lines=$(taskset -c "$SOURCE_CPU" "$ROOT/scripts/stack/legacy-stack.sh" start-mysql "$state/legacy")
set -a
eval "$env_lines"
set +a
mysql_pid=$(cat "$state/legacy/mariadb/mysqld.pid")
sql() {
  mariadb --no-defaults --default-character-set=utf8mb4 -S "$FICUS_MYSQL_SOCKET" \
    -u"$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" -N -B -r "$FICUS_MYSQL_DB" -e "$1"
}

echo "bench:bench-bulk-secret" >"$state/bulk.token"
# start_writer DIR: a fresh durable writer on WRITER_CPU with the bulk token.
start_writer() {
  say "profile-writer on CPU $WRITER_CPU ($1)"
  mkdir -p "$1"
  : >"$state/writer.out"  # exists before the background child opens it
  taskset -c "$WRITER_CPU" "$WRITER_BIN" --listen 127.0.0.1:0 --data-dir "$1" \
    --bulk-token-file "$state/bulk.token" --log-level warn >"$state/writer.out" 2>"$state/writer.log" &
  writer_pid=$!
  writer_url=""
  for ((i = 0; i < 100; i++)); do
    writer_url=$(sed -n 's/^profile-writer listening on \(http:[^ ]*\).*/\1/p' "$state/writer.out")
    [ -n "$writer_url" ] && break
    kill -0 "$writer_pid" 2>/dev/null || { cat "$state/writer.log" >&2; exit 1; }
    sleep 0.1
  done
  [ -n "$writer_url" ] || { echo "bench/migrator: writer did not start" >&2; exit 1; }
  export FICUS_WRITER_URL=$writer_url
}
stop_writer() {
  kill -TERM "$writer_pid" 2>/dev/null && wait "$writer_pid" 2>/dev/null
  writer_pid=""
}
start_writer "$state/writer-data"

# cpu_s PID: user+system CPU seconds of a process (all threads) so far.
tck=$(getconf CLK_TCK)
cpu_s() { awk -v t="$tck" '{ printf "%.1f", ($14 + $15) / t }' "/proc/$1/stat"; }
metric() { curl -s "$writer_url/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
sub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
# busy_s: busy CPU seconds of all CPUs since boot (user+nice+system+irq+softirq+steal).
busy_s() { awk -v t="$tck" '/^cpu[0-9]/ { b += $2 + $3 + $4 + $7 + $8 + $9 } END { printf "%.1f", b / t }' /proc/stat; }

# run_migrator NAME ARGS...: runs the migrator on SOURCE_CPU (bounded), output in
# $state/NAME.out/.log; sets mig_cpu (its CPU seconds), w_cpu, db_cpu, others_cpu
# (deltas over the run), batch (updates per WAL sync).
run_migrator() {
  local name=$1
  shift
  local w0 d0 b_sum0 b_cnt0 busy0
  busy0=$(busy_s)
  w0=$(cpu_s "$writer_pid")
  d0=$(cpu_s "$mysql_pid")
  b_sum0=$(metric ficus_writer_group_commit_batch_size_sum)
  b_cnt0=$(metric ficus_writer_group_commit_batch_size_count)
  local rc=0
  # `times` in the subshell: CPU of its waited-for descendants (timeout + migrator).
  (
    r=0
    timeout -s INT "$PHASE_TIMEOUT" taskset -c "$SOURCE_CPU" "$MIGRATOR_BIN" "$@" --progress plain \
      >"$state/$name.out" 2>"$state/$name.log" || r=$?
    times >"$state/$name.time"
    exit $r
  ) || rc=$?
  mig_cpu=$(sed -n 2p "$state/$name.time" | tr 'ms' '  ' |
    awk '{ printf "%.1f", $1 * 60 + $2 + $3 * 60 + $4 }')
  w_cpu=$(sub "$(cpu_s "$writer_pid")" "$w0")
  db_cpu=$(sub "$(cpu_s "$mysql_pid")" "$d0")
  others_cpu=$(awk -v b="$(sub "$(busy_s)" "$busy0")" -v m="$mig_cpu" -v w="$w_cpu" -v d="$db_cpu" \
    'BEGIN { o = b - m - w - d; printf "%.1f", o < 0 ? 0 : o }')
  local bs bc
  bs=$(sub "$(metric ficus_writer_group_commit_batch_size_sum)" "$b_sum0")
  bc=$(sub "$(metric ficus_writer_group_commit_batch_size_count)" "$b_cnt0")
  batch=$(awk -v s="$bs" -v c="$bc" 'BEGIN { if (c > 0) printf "%.1f", s / c; else print "-" }')
  local n secs
  n=$(count_of "$state/$name.out")
  secs=$(secs_of "$state/$name.out")
  syncs=$(awk -v c="$bc" -v t="$secs" 'BEGIN { if (t > 0 && c > 0) printf "%.0f", c / t; else print "-" }')
  us_per() { awk -v c="$1" -v n="$n" 'BEGIN { if (n > 0) printf "%.1f", c * 1e6 / n; else print "-" }'; }
  mig_us=$(us_per "$mig_cpu")
  w_us=$(us_per "$w_cpu")
  db_us=$(us_per "$db_cpu")
  per_cpu=$(awk -v r="$(rate_of "$state/$name.out")" -v t="$(secs_of "$state/$name.out")" \
    -v c="$(awk -v a="$mig_cpu" -v b="$w_cpu" -v d="$db_cpu" 'BEGIN { print a + b + d }')" \
    'BEGIN { if (c > 0 && r != "") printf "%.0f", r * t / c; else print "-" }')
  return $rc
}
# rate_of FILE: the "N/s" figure of a summary (backfill "processed", verify "checked").
rate_of() { sed -n 's/^  \(processed (run)\|checked\) .*(\([0-9]*\) [a-z]*\/s).*/\2/p' "$1"; }
secs_of() { sed -n 's/^  \(processed (run)\|checked\) .* in \([0-9.]*\) s .*/\2/p' "$1"; }
count_of() { sed -n 's/^  \(processed (run)\|checked\) *\([0-9]*\) in .*/\2/p' "$1"; }

# --- 1. rows
# generate FROM TO: profiles seq FROM..TO (3 keys each).
generate() {
  timeout "$PHASE_TIMEOUT" mariadb --no-defaults -S "$FICUS_MYSQL_SOCKET" -u"$FICUS_MYSQL_USER" \
    -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" <<EOF
SET SESSION unique_checks = 0;
INSERT INTO profiles (user_id, updated_us, created_us)
  SELECT CONCAT(SUBSTR(m,1,8),'-',SUBSTR(m,9,4),'-4',SUBSTR(m,14,3),'-8',SUBSTR(m,18,3),'-',SUBSTR(m,21,12)),
         1600000000000000 + seq * 1000 + 500, 1600000000000000
  FROM (SELECT seq, MD5(CONCAT('bench', seq)) m FROM seq_$1_to_$2) a;
INSERT INTO profile_attributes (user_id, attr_key, attr_value, updated_us)
  SELECT p.user_id, k.attr_key,
    CASE k.attr_key
      WHEN 'plan' THEN ELT(1 + CAST(p.updated_us DIV 1000 % 3 AS INT), 'free', 'pro', 'team')
      WHEN 'locale' THEN 'zh-CN'
      ELSE IF(p.updated_us DIV 1000 % 10 = 0, NULL, CONCAT('nick-', SUBSTR(p.user_id, 1, 8)))
    END,
    IF(k.attr_key = 'nickname', p.updated_us, p.updated_us - 500)
  FROM profiles p
  JOIN (SELECT 'plan' attr_key UNION ALL SELECT 'locale' UNION ALL SELECT 'nickname') k
  WHERE p.updated_us BETWEEN 1600000000000000 + $1 * 1000 + 500 AND 1600000000000000 + $2 * 1000 + 500;
EOF
}
say "generating $PER_UPDATE_ROWS profiles (3 keys each) for the per-update path"
t0=$(date +%s.%N)
generate 1 "$PER_UPDATE_ROWS"
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
[ "$(sql 'SELECT COUNT(*) FROM profiles')" = "$PER_UPDATE_ROWS" ] || { echo "generation failed" >&2; exit 1; }
say "generated in ${gen_s}s"

wflag=()
[ -n "$WORKERS" ] && wflag=(--workers "$WORKERS")
rows=""
# phase PATH_NAME FLAGS...: backfill then verify all rows on one path.
phase() {
  local path=$1
  shift
  local bf_cmd="taskset -c $SOURCE_CPU profile-migrator backfill ${wflag[*]} $* --checkpoint CP --progress plain"
  say "$path backfill: $bf_cmd"
  run_migrator "backfill-$path" backfill "${wflag[@]}" "$@" --checkpoint "$state/cp-$path" \
    --failures "$state/failures-$path.jsonl"
  cat "$state/backfill-$path.out" >&2
  grep -q "state              complete" "$state/backfill-$path.out" || { echo "backfill incomplete" >&2; exit 1; }
  # The writer's flushes and compactions of what the backfill wrote go on after
  # its last 200: wait until the writer is idle (under 0.05 CPU s per second,
  # at most SETTLE_S), and count that CPU as the backfill's ("after" column),
  # so verify is measured on a settled store and not charged for it.
  local n_done w_before settle_start i c0 c1
  n_done=$(count_of "$state/backfill-$path.out")
  w_before=$(cpu_s "$writer_pid")
  settle_start=$(date +%s)
  for ((i = 0; i < SETTLE_S; i++)); do
    c0=$(cpu_s "$writer_pid")
    sleep 1
    c1=$(cpu_s "$writer_pid")
    awk -v a="$c0" -v b="$c1" 'BEGIN { exit !(b - a < 0.05) }' && break
  done
  local after_us settle_s
  after_us=$(awk -v a="$w_before" -v b="$(cpu_s "$writer_pid")" -v n="$n_done" \
    'BEGIN { if (n > 0) printf "%.1f", (b - a) * 1e6 / n; else print "-" }')
  settle_s=$(($(date +%s) - settle_start))
  say "$path: writer settled after ${settle_s}s (${after_us} us/profile of writer CPU after the backfill)"
  rows+="| backfill, $path | $(rate_of "$state/backfill-$path.out") profiles/s | $(secs_of "$state/backfill-$path.out") | $mig_us | $w_us (+$after_us after, ${settle_s} s) | $db_us | $syncs | $batch | $others_cpu | \`$bf_cmd\` |"$'\n'
  local vf_cmd="taskset -c $SOURCE_CPU profile-migrator verify ${wflag[*]} $* --progress plain"
  say "$path verify: $vf_cmd"
  local rc=0
  run_migrator "verify-$path" verify "${wflag[@]}" "$@" --mismatches "$state/mm-$path.jsonl" || rc=$?
  cat "$state/verify-$path.out" >&2
  [ $rc = 0 ] || { echo "verify exit $rc (expected parity)" >&2; exit 1; }
  rows+="| verify, $path | $(rate_of "$state/verify-$path.out") users/s | $(secs_of "$state/verify-$path.out") | $mig_us | $w_us | $db_us | - | - | $others_cpu | \`$vf_cmd\` |"$'\n'
}

# --- 2. per-update path (what an older writer gets)
phase per-update --bulk off
# --- 3. bulk path, all ROWS profiles, into a fresh writer
stop_writer
if [ "$ROWS" -gt "$PER_UPDATE_ROWS" ]; then
  say "generating profiles $((PER_UPDATE_ROWS + 1))..$ROWS for the bulk path"
  t0=$(date +%s.%N)
  generate $((PER_UPDATE_ROWS + 1)) "$ROWS"
  gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" -v g="$gen_s" 'BEGIN { printf "%.0f", g + b - a }')
  [ "$(sql 'SELECT COUNT(*) FROM profiles')" = "$ROWS" ] || { echo "generation failed" >&2; exit 1; }
fi
start_writer "$state/writer-data-bulk"
phase bulk --writer-token-file "$state/bulk.token"

# --- 4. sweep
sweep_rows=""
reversed=$(tr ' ' '\n' <<<"$SWEEP" | tac | tr '\n' ' ')
for ((round = 1; round <= ROUNDS; round++)); do
  order=$SWEEP
  [ $((round % 2)) = 0 ] && order=$reversed
  for w in $order; do
    for cmd in backfill verify; do
      say "sweep round $round: $cmd --workers $w for ${SWEEP_S}s"
      extra=(--checkpoint "$state/cp-sweep" --restart --failures "$state/failures-sweep.jsonl")
      [ $cmd = verify ] && extra=(--mismatches "$state/mm-sweep.jsonl")
      saved=$PHASE_TIMEOUT
      PHASE_TIMEOUT=$SWEEP_S
      run_migrator "sweep-$cmd-$w-$round" $cmd --bulk off --workers "$w" "${extra[@]}" || true
      PHASE_TIMEOUT=$saved
      unit=profiles/s
      [ $cmd = verify ] && unit=users/s && batch=-
      f=$state/sweep-$cmd-$w-$round.out
      sweep_rows+="| $cmd, ${SWEEP_S} s slice, round $round | $w | $(secs_of "$f") | $(rate_of "$f") $unit | $per_cpu | $mig_cpu | $w_cpu | $db_cpu | $others_cpu | $batch |"$'\n'
    done
  done
done

table="| phase | rate | s | migrator CPU us/profile | writer CPU us/profile | MariaDB CPU us/profile | WAL syncs/s | updates per WAL sync | others CPU s | command |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---|
${rows%$'\n'}"
if [ -n "$sweep_rows" ]; then
  table+="

| sweep phase | workers | s | rate | per pipeline CPU-s | migrator CPU s | writer CPU s | MariaDB CPU s | others CPU s | updates per WAL sync |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
${sweep_rows%$'\n'}"
fi
echo
echo "$table"

if [ "$record" -eq 1 ]; then
  results=$ROOT/bench/RESULTS.md
  cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
  busy=""
  if awk -v l="${load_before%% *}" 'BEGIN { exit !(l > 1.0) }'; then
    busy="Note: the machine was busy before this run (1-min load ${load_before%% *} on $(nproc) CPUs; other engineers' builds and tests shared both CPUs), so these figures understate an idle machine."
  fi
  cat >>"$results" <<EOF

## $(date -u +%Y-%m-%dT%H:%MZ) profile-migrator: backfill and verify, $ROWS profiles

- Machine: $(nproc) CPUs, $cpu; $(uname -sr); load average before the run: $load_before
- Stack: MariaDB $(mariadbd --version | awk '{print $3}') (innodb_flush_log_at_trx_commit=1) and the migrator on CPU $SOURCE_CPU; profile-writer (RocksDB, durable: WAL fsync before each 200, group commit) on CPU $WRITER_CPU; all on 127.0.0.1
- Data: $ROWS profiles x 3 keys (2 distinct stamps, 10% tombstones) = 2 updates per profile; generated in ${gen_s} s. The per-update path ran on the first $PER_UPDATE_ROWS of them (FICUS_BENCH_PER_UPDATE_ROWS), the bulk path on all $ROWS
- Command: \`BUILD_DIR=$BUILD_DIR bench/migrator/run.sh\` (each phase's command in the table; per-update path first, then the bulk path into a fresh writer; sweep rounds: $ROUNDS)
- CPU per profile = process CPU seconds over the phase / profiles (or users) done; WAL syncs/s = the writer's group commits per second of the phase; "+N after, S s" = writer CPU per profile spent after the backfill's end (flushes, compactions) until it was idle, S seconds later (verify starts then)

$table

$busy
EOF
  echo "recorded in bench/RESULTS.md"
fi
