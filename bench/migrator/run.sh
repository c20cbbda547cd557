#!/usr/bin/env bash
# Benchmark of profile-migrator: backfill profiles/s for FICUS_BENCH_ROWS (1,000,000)
# legacy profiles and verify users/s, against a real MariaDB (legacy-stack.sh
# start-mysql) and a real, durable profile-writer (RocksDB, WAL fsync before
# each 200), both started here on 127.0.0.1 and stopped at the end.
#
#   bench/migrator/run.sh [--no-record]
#
# CPU split (2 cores): the writer on CPU $FICUS_BENCH_WRITER_CPU (1), MariaDB
# and the migrator on CPU $FICUS_BENCH_SOURCE_CPU (0), all with taskset
# (threads and children inherit it). Each profile has 3 keys (plan, locale at
# one stamp, nickname at another; every 10th nickname a tombstone), so a
# profile is 2 timestamped updates to the writer.
# Phases, each bounded by `timeout`:
#   1. generate the rows in MariaDB (INSERT ... SELECT from seq_1_to_N)
#   2. backfill all rows, --workers $FICUS_BENCH_WORKERS (default: the migrator's)
#   3. verify all rows (0 mismatches expected)
#   4. worker sweep (FICUS_BENCH_SWEEP, "8 16 32 64 128"), FICUS_BENCH_SWEEP_ROUNDS
#      (2) rounds, the second in reverse order (a drift in the machine's load
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
WORKERS=${FICUS_BENCH_WORKERS:-}
SWEEP=${FICUS_BENCH_SWEEP:-8 16 32 64 128}
SWEEP_S=${FICUS_BENCH_SWEEP_S:-12}
ROUNDS=${FICUS_BENCH_SWEEP_ROUNDS:-2}
WRITER_CPU=${FICUS_BENCH_WRITER_CPU:-1}
SOURCE_CPU=${FICUS_BENCH_SOURCE_CPU:-0}
PHASE_TIMEOUT=${FICUS_BENCH_PHASE_TIMEOUT_S:-900}
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

say "profile-writer on CPU $WRITER_CPU"
mkdir -p "$state/writer-data"
: >"$state/writer.out"  # exists before the background child opens it
taskset -c "$WRITER_CPU" "$WRITER_BIN" --listen 127.0.0.1:0 --data-dir "$state/writer-data" \
  --log-level warn >"$state/writer.out" 2>"$state/writer.log" &
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
  b_sum0=$(metric writer_group_commit_batch_size_sum)
  b_cnt0=$(metric writer_group_commit_batch_size_count)
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
  bs=$(sub "$(metric writer_group_commit_batch_size_sum)" "$b_sum0")
  bc=$(sub "$(metric writer_group_commit_batch_size_count)" "$b_cnt0")
  batch=$(awk -v s="$bs" -v c="$bc" 'BEGIN { if (c > 0) printf "%.1f", s / c; else print "-" }')
  per_cpu=$(awk -v r="$(rate_of "$state/$name.out")" -v t="$(secs_of "$state/$name.out")" \
    -v c="$(awk -v a="$mig_cpu" -v b="$w_cpu" -v d="$db_cpu" 'BEGIN { print a + b + d }')" \
    'BEGIN { if (c > 0 && r != "") printf "%.0f", r * t / c; else print "-" }')
  return $rc
}
# rate_of FILE: the "N/s" figure of a summary (backfill "processed", verify "checked").
rate_of() { sed -n 's/^  \(processed (run)\|checked\) .*(\([0-9]*\) [a-z]*\/s).*/\2/p' "$1"; }
secs_of() { sed -n 's/^  \(processed (run)\|checked\) .* in \([0-9.]*\) s .*/\2/p' "$1"; }

# --- 1. rows
say "generating $ROWS profiles (3 keys each)"
t0=$(date +%s.%N)
timeout "$PHASE_TIMEOUT" mariadb --no-defaults -S "$FICUS_MYSQL_SOCKET" -u"$FICUS_MYSQL_USER" \
  -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" <<EOF
SET SESSION unique_checks = 0;
INSERT INTO profiles (user_id, updated_us, created_us)
  SELECT CONCAT(SUBSTR(m,1,8),'-',SUBSTR(m,9,4),'-4',SUBSTR(m,14,3),'-8',SUBSTR(m,18,3),'-',SUBSTR(m,21,12)),
         1600000000000000 + seq * 1000 + 500, 1600000000000000
  FROM (SELECT seq, MD5(CONCAT('bench', seq)) m FROM seq_1_to_$ROWS) a;
INSERT INTO profile_attributes (user_id, attr_key, attr_value, updated_us)
  SELECT p.user_id, k.attr_key,
    CASE k.attr_key
      WHEN 'plan' THEN ELT(1 + CAST(p.updated_us DIV 1000 % 3 AS INT), 'free', 'pro', 'team')
      WHEN 'locale' THEN 'zh-CN'
      ELSE IF(p.updated_us DIV 1000 % 10 = 0, NULL, CONCAT('nick-', SUBSTR(p.user_id, 1, 8)))
    END,
    IF(k.attr_key = 'nickname', p.updated_us, p.updated_us - 500)
  FROM profiles p
  JOIN (SELECT 'plan' attr_key UNION ALL SELECT 'locale' UNION ALL SELECT 'nickname') k;
EOF
gen_s=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }')
[ "$(sql 'SELECT COUNT(*) FROM profiles')" = "$ROWS" ] || { echo "generation failed" >&2; exit 1; }
say "generated in ${gen_s}s"

wflag=()
[ -n "$WORKERS" ] && wflag=(--workers "$WORKERS")
default_workers() { "$MIGRATOR_BIN" "$1" --help | sed -n 's/.*--workers INT=\([0-9]*\).*/\1/p'; }
bf_workers=${WORKERS:-$(default_workers backfill)}
vf_workers=${WORKERS:-$(default_workers verify)}

# --- 2. backfill
bf_cmd="taskset -c $SOURCE_CPU profile-migrator backfill ${wflag[*]} --checkpoint CP --progress plain"
say "backfill: $bf_cmd"
run_migrator backfill backfill "${wflag[@]}" --checkpoint "$state/cp" --failures "$state/failures.jsonl"
cat "$state/backfill.out" >&2
bf_rate=$(rate_of "$state/backfill.out")
bf_secs=$(secs_of "$state/backfill.out")
bf_row="| backfill, all $ROWS | $bf_workers | ${bf_secs} | **${bf_rate} profiles/s** | $per_cpu | $mig_cpu | $w_cpu | $db_cpu | $others_cpu | $batch |"
grep -q "state              complete" "$state/backfill.out" || { echo "backfill incomplete" >&2; exit 1; }

# --- 3. verify
vf_cmd="taskset -c $SOURCE_CPU profile-migrator verify ${wflag[*]} --progress plain"
say "verify: $vf_cmd"
rc=0
run_migrator verify verify "${wflag[@]}" --mismatches "$state/mm.jsonl" || rc=$?
cat "$state/verify.out" >&2
[ $rc = 0 ] || { echo "verify exit $rc (expected parity)" >&2; exit 1; }
vf_rate=$(rate_of "$state/verify.out")
vf_row="| verify, all $ROWS | $vf_workers | $(secs_of "$state/verify.out") | **${vf_rate} users/s** | $per_cpu | $mig_cpu | $w_cpu | $db_cpu | $others_cpu | - |"

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
      run_migrator "sweep-$cmd-$w-$round" $cmd --workers "$w" "${extra[@]}" || true
      PHASE_TIMEOUT=$saved
      unit=profiles/s
      [ $cmd = verify ] && unit=users/s && batch=-
      f=$state/sweep-$cmd-$w-$round.out
      sweep_rows+="| $cmd, ${SWEEP_S} s slice, round $round | $w | $(secs_of "$f") | $(rate_of "$f") $unit | $per_cpu | $mig_cpu | $w_cpu | $db_cpu | $others_cpu | $batch |"$'\n'
    done
  done
done

table="| phase | workers | s | rate | per pipeline CPU-s | migrator CPU s | writer CPU s | MariaDB CPU s | others CPU s | updates per WAL sync |
|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|
$bf_row
$vf_row
${sweep_rows%$'\n'}"
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
- Data: $ROWS profiles x 3 keys (2 distinct stamps, 10% tombstones) = 2 updates per profile; generated in ${gen_s} s
- Command: \`BUILD_DIR=$BUILD_DIR bench/migrator/run.sh\` (measured: \`$bf_cmd\`, then \`$vf_cmd\`; sweep: same with \`--workers W\`, SIGINT after ${SWEEP_S} s, $ROUNDS rounds)

$table

$busy
EOF
  echo "recorded in bench/RESULTS.md"
fi
