#!/usr/bin/env bash
# Black-box tests of profile-migrator against a real MariaDB (started with
# scripts/stack/legacy-stack.sh start-mysql) and the real profile-writer
# binary (port 0, temp data dir). Each case starts and stops its own servers.
#
#   e2e.sh CASE MIGRATOR_BIN BUILD_DIR
#   CASE: cli_errors | backfill_resume | bulk_resume | live_updates | repair | datetime | bytes |
#         writer_down | ids | whole_user | updated_at | bulk_fallback
# FICUS_E2E_KEEP_GOING=1: a failed check is counted and the case goes on (exit 1
# at the end), to list everything an older binary gets wrong.
# The cases ids, repair, whole_user and updated_at pass options that older
# migrators lack through the environment (FICUS_LEGACY_URL,
# FICUS_WRITER_BULK_TOKEN_FILE), so they also run against an older migrator
# binary (see the migrator README, "Tests").
# The writer runs with a bulk token (FICUS_WRITER_BULK_TOKEN_FILE, which the
# migrator reads too), so the migrator takes the bulk path unless a case says
# --bulk off.
# Writer binary: $FICUS_WRITER_BIN, else BUILD_DIR/apps/profile-writer/profile-writer.
set -euo pipefail
CASE=$1
MIGRATOR=$2
BUILD_DIR=$3
SRC=${FICUS_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}
source "$SRC/scripts/lib.sh"

STATE=$(mktemp -d "${TMPDIR:-/tmp}/ficus-migrator-e2e.XXXXXX")
WRITER_PID=""
MIGRATOR_PID=""
MYSQL_STARTED=0
cleanup() {
  local rc=$?
  [ -n "$MIGRATOR_PID" ] && kill -KILL "$MIGRATOR_PID" 2>/dev/null || true
  if [ -n "$WRITER_PID" ] && kill -0 "$WRITER_PID" 2>/dev/null; then
    kill -TERM "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
  fi
  [ $MYSQL_STARTED -eq 1 ] && "$SRC/scripts/stack/legacy-stack.sh" stop "$STATE/legacy" >/dev/null 2>&1
  if [ $rc -ne 0 ]; then
    echo "--- FAILED ($CASE); logs:" >&2
    for f in "$STATE"/*.log "$STATE"/*.out; do
      [ -f "$f" ] && { echo "== $f" >&2; tail -20 "$f" >&2; }
    done
  fi
  rm -rf "$STATE"
  exit $rc
}
trap cleanup EXIT
# shellcheck source=e2e_lib.sh
source "$SRC/apps/profile-migrator/tests/e2e_lib.sh"


# start_legacy: MariaDB + php-fpm + nginx (the monolith's API at FICUS_LEGACY_URL).
start_legacy() {
  local envf="$STATE/mysql.env"
  "$SRC/scripts/stack/legacy-stack.sh" start "$STATE/legacy" >"$envf" 2>"$STATE/mysql-start.log" ||
    fail "legacy-stack.sh start failed"
  MYSQL_STARTED=1
  set -a
  # shellcheck disable=SC1090
  source "$envf"
  set +a
}

hex() { od -An -v -tx1 | tr -d ' \n' | tr a-f A-F; }  # stdin bytes -> upper-case hex, like HEX()

# start_writer [FLAGS...]: the writer with a bulk token (and FLAGS).
start_writer() {
  [ -x "$WRITER_BIN" ] || fail "profile-writer binary not found at $WRITER_BIN (build it first)"
  mkdir -p "$STATE/writer-data"
  echo "migrator:e2e-bulk-secret" >"$STATE/bulk.token"
  export FICUS_WRITER_BULK_TOKEN_FILE="$STATE/bulk.token"
  : >"$STATE/writer.out"  # exists before the background child opens it (sed below races it)
  "$WRITER_BIN" --listen 127.0.0.1:0 --data-dir "$STATE/writer-data" "$@" \
    >"$STATE/writer.out" 2>"$STATE/writer.log" &
  WRITER_PID=$!
  wait_writer_url
}

# generate N: N profiles with keys plan, locale (ts T-500) and nickname (ts T;
# every 10th a tombstone), T = 2020-09-13 + i ms. user ids are md5-derived v4 UUIDs.
generate() {
  sql "INSERT INTO profiles (user_id, updated_us, created_us)
       SELECT CONCAT(SUBSTR(m,1,8),'-',SUBSTR(m,9,4),'-4',SUBSTR(m,14,3),'-8',SUBSTR(m,18,3),'-',SUBSTR(m,21,12)),
              1600000000000000 + seq * 1000 + 500, 1600000000000000
       FROM (SELECT seq, MD5(CONCAT('$CASE', seq)) m FROM seq_1_to_$1) a;
       INSERT INTO profile_attributes (user_id, attr_key, attr_value, updated_us)
       SELECT p.user_id, k.attr_key,
         CASE k.attr_key
           WHEN 'plan' THEN ELT(1 + CAST(p.updated_us DIV 1000 % 3 AS INT), 'free', 'pro', 'team')
           WHEN 'locale' THEN 'zh-CN'
           ELSE IF(p.updated_us DIV 1000 % 10 = 0, NULL,
                   CONCAT('nick-', CONVERT(SUBSTR(p.user_id, 1, 8) USING utf8mb4), ' \"q\" é\\\\'))
         END,
         IF(k.attr_key = 'nickname', p.updated_us, p.updated_us - 500)
       FROM profiles p
       JOIN (SELECT 'plan' attr_key UNION ALL SELECT 'locale' UNION ALL SELECT 'nickname') k;"
}

writer_get() {  # writer_get USER -> JSON body
  curl -s "$WRITER_URL/api/v2/profile/get?user_id=$1"
}

writer_update() {  # writer_update USER TS JSON_ATTRS
  local out
  out=$(curl -s -XPOST -H 'Content-Type: application/json' -H "X-Ficus-Timestamp: $2" \
    "$WRITER_URL/api/v2/profile/update" -d "{\"user_id\":\"$1\",\"attributes\":$3}")
  [ "$(jq -r .ret <<<"$out")" = 200 ] || fail "writer update of $1 failed: $out"
}

checkpoint_profiles() {
  [ -f "$STATE/cp" ] || { echo 0; return; }
  jq '[.partitions[].profiles] | add' "$STATE/cp" 2>/dev/null || echo 0
}

expect_rc() {  # expect_rc WANT CMD... : runs CMD, output in $STATE/last.out/.err
  local want=$1 rc=0
  shift
  "$@" >"$STATE/last.out" 2>"$STATE/last.err" || rc=$?
  if [ "$rc" != "$want" ]; then
    cat "$STATE/last.out" "$STATE/last.err" >&2
    fail "exit $rc, expected $want: $*"
  fi
  # A summary that says MISMATCH never exits 0 (every run).
  if [ "$rc" = 0 ] && grep -q "^  result  *MISMATCH" "$STATE/last.out"; then
    fail "the summary says MISMATCH but the exit code is 0: $*"
  fi
}

expect_err() {  # expect_err TEXT: stderr of the last command contains TEXT
  grep -qF -- "$1" "$STATE/last.err" || { cat "$STATE/last.err" >&2; fail "stderr lacks '$1'"; }
}
expect_out() {
  grep -qF -- "$1" "$STATE/last.out" || { cat "$STATE/last.out" >&2; fail "stdout lacks '$1'"; }
}

M() { "$MIGRATOR" "$@" --progress plain; }
# M_bg ARGS... >OUT 2>LOG: the migrator itself in the background, MIGRATOR_PID = its pid
# (not a subshell's: a signal sent to a subshell running M would never reach it).
M_bg() {
  "$MIGRATOR" "$@" --progress plain &
  MIGRATOR_PID=$!
}

case_cli_errors() {
  step "usage errors name the problem (exit 2)"
  expect_rc 2 "$MIGRATOR"
  expect_err "subcommand"
  expect_rc 2 "$MIGRATOR" backfill
  expect_err "--writer-url"
  expect_rc 2 "$MIGRATOR" backfill --writer-url http://127.0.0.1:1 --partitions 0
  expect_err "--partitions: must be 1 to 256, got 0"
  expect_rc 2 "$MIGRATOR" verify --writer-url ftp://127.0.0.1:1
  expect_err "--writer-url: 'ftp://127.0.0.1:1': must start with http://"
  expect_rc 2 "$MIGRATOR" verify --writer-url http://127.0.0.1:1 --sample 0%
  expect_err "--sample"
  expect_rc 2 "$MIGRATOR" backfill --writer-url http://127.0.0.1:1 --legacy-tz Mars/Base
  expect_err "--legacy-tz: time zone 'Mars/Base': unknown"
  expect_rc 2 "$MIGRATOR" backfill --writer-url http://127.0.0.1:1 --no-such-flag
  expect_err "--no-such-flag"
  expect_rc 0 "$MIGRATOR" verify --help
  expect_out "--repair"

  step "unreachable database (exit 3, names host:port)"
  local dead
  dead=$(free_port)
  expect_rc 3 env -u FICUS_MYSQL_SOCKET "$MIGRATOR" backfill --writer-url http://127.0.0.1:1 \
    --mysql-host 127.0.0.1 --mysql-port "$dead" --checkpoint "$STATE/cp0"
  expect_err "mysql 127.0.0.1:$dead/ficus: cannot connect"
  expect_rc 3 env -u FICUS_MYSQL_SOCKET "$MIGRATOR" verify --writer-url http://127.0.0.1:1 \
    --mysql-host 127.0.0.1 --mysql-port "$dead"
  expect_err "cannot connect"

  start_mysql
  generate 50
  step "wrong password and unknown database are named"
  expect_rc 3 "$MIGRATOR" backfill --writer-url http://127.0.0.1:1 --mysql-password wrong \
    --checkpoint "$STATE/cp0"
  expect_err "Access denied"
  expect_rc 3 "$MIGRATOR" verify --writer-url http://127.0.0.1:1 --mysql-db nosuchdb
  expect_err "nosuchdb"

  step "unreachable writer (exit 3, names the URL; checkpoint stays at zero)"
  local wport
  wport=$(free_port)
  expect_rc 3 M backfill --writer-url "http://127.0.0.1:$wport" --retry-deadline-ms 500 \
    --checkpoint "$STATE/cp"
  expect_err "writer http://127.0.0.1:$wport"
  [ "$(checkpoint_profiles)" = 0 ] || fail "checkpoint advanced without a writer"

  step "corrupt checkpoint file is refused, naming the file"
  echo '{"format":"ficus-migrator-checkpoint/1","source":' >"$STATE/cp"
  expect_rc 3 M backfill --writer-url "http://127.0.0.1:$wport" --checkpoint "$STATE/cp"
  expect_err "$STATE/cp: not valid JSON"
  step "checkpoint from another partitioning is refused"
  expect_rc 3 M backfill --writer-url "http://127.0.0.1:$wport" --retry-deadline-ms 100 \
    --checkpoint "$STATE/cp" --restart --partitions 2
  expect_rc 3 M backfill --writer-url "http://127.0.0.1:$wport" --checkpoint "$STATE/cp" --partitions 3
  expect_err "resume with the same value"
}

# The per-update path (--bulk off: what an older writer gets).
case_backfill_resume() {
  local n=100000
  M() { "$MIGRATOR" "$@" --progress plain --bulk off; }
  M_bg() {
    "$MIGRATOR" "$@" --progress plain --bulk off &
    MIGRATOR_PID=$!
  }
  start_mysql
  start_writer
  step "generate $n profiles"
  generate $n
  [ "$(sql 'SELECT COUNT(*) FROM profiles')" = $n ] || fail "generation"

  step "backfill, SIGKILL midway"
  M_bg backfill --checkpoint "$STATE/cp" --workers 64 --partitions 4 --failures "$STATE/failures.jsonl" \
    >"$STATE/backfill1.out" 2>"$STATE/backfill1.log"
  local i done=0
  for ((i = 0; i < 1200; i++)); do
    done=$(checkpoint_profiles)
    [ "$done" -ge 25000 ] && break
    kill -0 "$MIGRATOR_PID" 2>/dev/null || fail "migrator ended before it could be killed"
    sleep 0.1
  done
  kill -KILL "$MIGRATOR_PID"
  wait "$MIGRATOR_PID" 2>/dev/null || true
  MIGRATOR_PID=""
  done=$(checkpoint_profiles)
  echo "killed with $done profiles checkpointed"
  [ "$done" -ge 25000 ] && [ "$done" -lt $n ] || fail "expected a partial checkpoint, got $done"
  [ "$(jq '[.partitions[].finished] | all' "$STATE/cp")" = false ] || fail "checkpoint says finished"

  step "resume, Ctrl-C (SIGINT) midway: exit 130, checkpoint saved"
  M_bg backfill --checkpoint "$STATE/cp" --workers 64 --partitions 4 --failures "$STATE/failures.jsonl" \
    >"$STATE/backfill2.out" 2>"$STATE/backfill2.log"
  local killed_at=$done
  for ((i = 0; i < 1200; i++)); do
    done=$(checkpoint_profiles)
    [ "$done" -ge $((killed_at + 20000)) ] && break
    kill -0 "$MIGRATOR_PID" 2>/dev/null || fail "migrator ended before it could be interrupted"
    sleep 0.1
  done
  kill -INT "$MIGRATOR_PID"
  local rc=0
  wait "$MIGRATOR_PID" || rc=$?
  MIGRATOR_PID=""
  cat "$STATE/backfill2.out"
  [ $rc = 130 ] || fail "SIGINT: exit $rc, expected 130"
  grep -q "resumed from       $killed_at" "$STATE/backfill2.out" || fail "second run did not resume at $killed_at"
  grep -q "state              interrupted (resume to continue)" "$STATE/backfill2.out" ||
    fail "summary does not say interrupted"
  done=$(checkpoint_profiles)
  echo "interrupted with $done profiles checkpointed"
  [ "$done" -gt "$killed_at" ] && [ "$done" -lt $n ] || fail "expected checkpoint between $killed_at and $n, got $done"

  step "resume to the end"
  expect_rc 0 M backfill --checkpoint "$STATE/cp" --workers 64 --partitions 4 \
    --failures "$STATE/failures.jsonl"
  cat "$STATE/last.out"
  expect_out "resumed from       $done"
  expect_out "state              complete"
  expect_out "failed             0"
  local processed
  processed=$(sed -n 's/^  processed (run) *\([0-9]*\).*/\1/p' "$STATE/last.out")
  [ "$processed" -le $((n - done)) ] || fail "resume redid work: processed $processed"
  [ "$(jq '[.partitions[].finished] | all' "$STATE/cp")" = true ] || fail "checkpoint not finished"
  [ "$(checkpoint_profiles)" = $n ] || fail "checkpoint counts $(checkpoint_profiles), not $n"

  step "a second resume has nothing to do"
  expect_rc 0 M backfill --checkpoint "$STATE/cp" --partitions 4
  expect_out "processed (run)    0"

  step "verify: all users, zero mismatches"
  expect_rc 0 M verify --workers 16 --mismatches "$STATE/mismatches.jsonl"
  cat "$STATE/last.out"
  expect_out "checked            $n"
  expect_out "mismatched         0"
  expect_out "result             PARITY"
  local live
  live=$(sql 'SELECT COUNT(*) FROM profile_attributes WHERE attr_value IS NOT NULL')
  expect_out "live attributes    legacy $live, new store $live"
  [ ! -s "$STATE/mismatches.jsonl" ] || fail "mismatch file not empty"

  step "spot check one user byte for byte (tombstone and escapes)"
  local u
  u=$(sql "SELECT user_id FROM profile_attributes WHERE attr_key='nickname' AND attr_value IS NOT NULL LIMIT 1")
  local want got
  want=$(sql "SELECT HEX(attr_value) FROM profile_attributes WHERE user_id='$u' AND attr_key='nickname'")
  got=$(writer_get "$u" | jq -j .data.attributes.nickname | hex)
  [[ "$want" == *22712220C3A95C ]] || fail "generator: nickname of $u is $want, not ...\"q\" é\\"
  [ "$want" = "$got" ] || fail "nickname of $u: legacy hex $want, writer hex $got"
  u=$(sql "SELECT user_id FROM profile_attributes WHERE attr_key='nickname' AND attr_value IS NULL LIMIT 1")
  [ "$(writer_get "$u" | jq -r '.data.attributes | has("nickname")')" = false ] ||
    fail "tombstoned nickname of $u came back"

  step "sampled verify (count and percentage)"
  expect_rc 0 M verify --sample 1000 --seed 7
  expect_out "checked            1000"
  expect_rc 0 M verify --sample 2%
  expect_out "result             PARITY"
}

case_live_updates() {
  local n=20000
  start_mysql
  start_writer
  generate $n
  sql "SELECT user_id FROM profiles ORDER BY RAND(42) LIMIT 300" >"$STATE/live-users"
  local now
  now=$(($(date +%s) * 1000000))

  step "backfill (rate-limited) while live updates reach the writer"
  # --rate 1500: the 50 curl updates below must land before the backfill ends,
  # also on a loaded machine (at 3000/s it ended first in two full-suite runs).
  M_bg backfill --checkpoint "$STATE/cp" --workers 8 --partitions 2 --rate 1500 \
    >"$STATE/backfill.out" 2>"$STATE/backfill.log"
  local i=0 u
  while read -r u; do
    i=$((i + 1))
    writer_update "$u" $((now + i)) "{\"plan\":\"live-$i\",\"nickname\":null,\"locale\":\"fr-FR\"}"
    # Overlap: the backfill is still running after the first 5 live writes
    # (few, so a loaded machine's slow curl calls do not outlast it).
    if [ $i -eq 5 ]; then
      kill -0 "$MIGRATOR_PID" 2>/dev/null || fail "backfill finished before the live writes: no overlap"
    fi
    [ $((i % 50)) -eq 0 ] && sleep 0.3
  done <"$STATE/live-users"
  local rc=0
  wait "$MIGRATOR_PID" || rc=$?
  MIGRATOR_PID=""
  cat "$STATE/backfill.out"
  [ $rc = 0 ] || fail "backfill exit $rc"
  grep -q "state              complete" "$STATE/backfill.out" || fail "backfill incomplete"
  local secs
  secs=$(sed -n 's/^  processed (run) *[0-9]* in \([0-9.]*\) s.*/\1/p' "$STATE/backfill.out")
  # --rate 1500 users/s (burst 150): 20000 users cannot take less than ~13.2 s.
  awk -v s="$secs" 'BEGIN { exit !(s >= 12.5) }' || fail "--rate 1500 not honoured: $n users in $secs s"

  step "every live value survived the stale backfill copy"
  i=0
  while read -r u; do
    i=$((i + 1))
    local body
    body=$(writer_get "$u")
    # One jq per user (300 users: process starts dominate on a loaded machine).
    jq -e --arg plan "live-$i" '.data.attributes | .plan == $plan and (has("nickname") | not)
      and .locale == "fr-FR"' <<<"$body" >/dev/null ||
      fail "live values of $u lost (plan live-$i, nickname deleted, locale fr-FR): $body"
  done <"$STATE/live-users"

  step "verify sees exactly the 300 users legacy has not got yet (writer newer)"
  expect_rc 1 M verify --mismatches "$STATE/mm.jsonl"
  expect_out "mismatched         300"
  [ "$(wc -l <"$STATE/mm.jsonl")" = 300 ] || fail "mismatch file has $(wc -l <"$STATE/mm.jsonl") lines"
  [ "$(jq -r .kind "$STATE/mm.jsonl" | sort -u)" = attributes ] || fail "unexpected kinds"

  step "verify --repair copies them to legacy (writer newer), then parity"
  expect_rc 0 M verify --repair --legacy-direct-sql --mismatches "$STATE/mm2.jsonl"
  expect_out "repaired           300 (failed 0)"
  [ "$(jq -r .repair "$STATE/mm2.jsonl" | sort -u)" = modern_to_legacy ] || fail "wrong direction"
  u=$(head -1 "$STATE/live-users")
  [ "$(sql "SELECT attr_value FROM profile_attributes WHERE user_id='$u' AND attr_key='plan'")" = live-1 ] ||
    fail "legacy plan of $u not repaired"
  [ "$(sql "SELECT COUNT(*) FROM profile_attributes WHERE user_id='$u' AND attr_key='nickname' AND attr_value IS NULL AND updated_us=$((now + 1))")" = 1 ] ||
    fail "legacy nickname of $u not a tombstone at the writer's stamp"
  [ "$(sql "SELECT COUNT(*) FROM profile_history WHERE user_id='$u'")" -ge 1 ] || fail "no history row"
  expect_rc 0 M verify
  expect_out "mismatched         0"
}

case_repair() {
  local n=3000
  start_legacy
  start_writer
  generate $n
  expect_rc 0 M backfill --checkpoint "$STATE/cp"
  expect_rc 0 M verify
  mapfile -t users < <(sql "SELECT user_id FROM profiles ORDER BY user_id LIMIT 5")
  local u1=${users[0]} u2=${users[1]} u3=${users[2]} u4=${users[3]}
  local u5=aaaaaaaa-0000-4000-8000-000000000005
  local now
  now=$(($(date +%s) * 1000000))

  step "corrupt: legacy newer (u1), legacy edited in place (u2), writer newer (u3),"
  step "         key only in writer (u4), user only in legacy (u5)"
  sql "UPDATE profile_attributes SET attr_value='legacy-fix', updated_us=$now WHERE user_id='$u1' AND attr_key='plan';
       UPDATE profiles SET updated_us=$now WHERE user_id='$u1';
       UPDATE profile_attributes SET attr_value='edited-in-place' WHERE user_id='$u2' AND attr_key='locale';
       INSERT INTO profiles VALUES ('$u5', $now, $now);
       INSERT INTO profile_attributes VALUES ('$u5', 'plan', 'only-legacy', $now);"
  writer_update "$u3" $((now + 5)) '{"plan":"writer-newer","locale":null}'
  writer_update "$u4" 1500000000000000 '{"stray":"old-key"}'

  step "verify finds exactly those five"
  expect_rc 1 M verify --mismatches "$STATE/mm.jsonl"
  cat "$STATE/last.out"
  expect_out "mismatched         5  (missing in new store 1, missing in legacy 0, attributes 4)"
  for u in "$u1" "$u2" "$u3" "$u4" "$u5"; do
    grep -q "\"user_id\":\"$u\"" "$STATE/mm.jsonl" || fail "$u not reported"
  done
  # Each record names every differing key with both sides' values (null = absent).
  # (jq -e on the whole file would judge only its last line's output: one record at a time.)
  expect_record() {  # expect_record USER KIND KEYS_JSON
    local rec
    rec=$(jq -c "select(.user_id==\"$1\")" "$STATE/mm.jsonl")
    jq -e --arg kind "$2" --argjson keys "$3" '.kind == $kind and .keys == $keys' <<<"$rec" \
      >/dev/null || fail "record of $1: want kind $2 keys $3, got: $rec"
  }
  local p1 p3
  p1=$(writer_get "$u1" | jq -r .data.attributes.plan)
  p3=$(sql "SELECT attr_value FROM profile_attributes WHERE user_id='$u3' AND attr_key='plan'")
  expect_record "$u1" attributes "$(jq -nc --arg m "$p1" '[{key:"plan",legacy:"legacy-fix",modern:$m}]')"
  expect_record "$u2" attributes '[{"key":"locale","legacy":"edited-in-place","modern":"zh-CN"}]'
  expect_record "$u3" attributes "$(jq -nc --arg l "$p3" \
    '[{key:"locale",legacy:"zh-CN",modern:null},{key:"plan",legacy:$l,modern:"writer-newer"}]')"
  expect_record "$u4" attributes '[{"key":"stray","legacy":null,"modern":"old-key"}]'
  expect_record "$u5" missing_in_modern '[{"key":"plan","legacy":"only-legacy","modern":null}]'
  [ "$(jq -r "select(.user_id==\"$u2\") | .legacy_updated_at == .modern_updated_at" "$STATE/mm.jsonl")" = true ] ||
    fail "u2: both sides should carry the same updated_at (edited behind the API)"

  step "the monolith caches u3's old profile (APCu) before any repair"
  local before
  before=$(curl -s "$FICUS_LEGACY_URL/api/v1/profile/get?user_id=$u3" | jq -r .data.attributes.plan)
  [ "$before" != writer-newer ] || fail "legacy already shows the writer's value"

  step "a repair towards legacy needs the legacy API (or an explicit --legacy-direct-sql)"
  expect_rc 1 env -u FICUS_LEGACY_URL "$MIGRATOR" verify --repair --progress plain \
    --mismatches "$STATE/mm1.jsonl"
  expect_out "result             MISMATCH"
  [[ "$(jq -r "select(.user_id==\"$u3\") | .repair_error" "$STATE/mm1.jsonl")" == *"needs --legacy-url"* ]] ||
    fail "u3 repaired without the legacy API: $(cat "$STATE/mm1.jsonl")"
  step "verify --repair with the legacy API (FICUS_LEGACY_URL = --legacy-url) fixes each from the newer side"
  expect_rc 0 M verify --repair --mismatches "$STATE/mm2.jsonl"
  cat "$STATE/last.out"
  expect_out "result             PARITY after repair (1 repaired)"
  [ "$(curl -s "$FICUS_LEGACY_URL/api/v1/profile/get?user_id=$u3" | jq -r .data.attributes.plan)" = writer-newer ] ||
    fail "the monolith still serves u3's old (cached) profile after the repair"
  cat "$STATE/last.out"
  expect_out "repaired           1 (failed 0)"
  # u1, u2, u4, u5 (towards the writer) were already repaired by the first run.
  [ "$(jq -r "select(.user_id==\"$u1\") | .repair" "$STATE/mm1.jsonl")" = legacy_to_modern ] || fail "u1 direction"
  [ "$(jq -r "select(.user_id==\"$u2\") | .repair" "$STATE/mm1.jsonl")" = legacy_to_modern_bumped ] || fail "u2 direction"
  [ "$(jq -r "select(.user_id==\"$u3\") | .repair" "$STATE/mm2.jsonl")" = modern_to_legacy ] || fail "u3 direction"
  [ "$(jq -r "select(.user_id==\"$u4\") | .repair" "$STATE/mm1.jsonl")" = legacy_to_modern_bumped ] || fail "u4 direction"
  [ "$(jq -r "select(.user_id==\"$u5\") | .repair" "$STATE/mm1.jsonl")" = legacy_to_modern ] || fail "u5 direction"
  [ "$(jq -r 'select(.repaired != true) | .user_id' "$STATE/mm2.jsonl")" = "" ] || fail "a record is not marked repaired"
  [ "$(writer_get "$u1" | jq -r .data.attributes.plan)" = legacy-fix ] || fail "u1 not repaired"
  [ "$(writer_get "$u2" | jq -r .data.attributes.locale)" = edited-in-place ] || fail "u2 not repaired"
  [ "$(sql "SELECT attr_value FROM profile_attributes WHERE user_id='$u3' AND attr_key='plan'")" = writer-newer ] ||
    fail "u3 not repaired in legacy"
  [ "$(sql "SELECT COUNT(*) FROM profile_attributes WHERE user_id='$u3' AND attr_key='locale' AND attr_value IS NULL")" = 1 ] ||
    fail "u3 locale not deleted in legacy"
  [ "$(writer_get "$u4" | jq -r '.data.attributes | has("stray")')" = false ] || fail "u4 stray key kept"
  [ "$(writer_get "$u5" | jq -r .data.attributes.plan)" = only-legacy ] || fail "u5 not copied"

  step "verify after repair: parity"
  expect_rc 0 M verify
  expect_out "mismatched         0"
}

# An older schema keeps timestamps as DATETIME(6) wall times (legacy zone) or
# TIMESTAMP(6) instants; backfill converts them explicitly, repair writes back.
case_datetime() {
  start_mysql
  start_writer
  local d1=d1000000-0000-4000-8000-000000000001 d2=d1000000-0000-4000-8000-000000000002
  local d3=d1000000-0000-4000-8000-000000000003 t1=d2000000-0000-4000-8000-000000000001
  step "schemas with DATETIME(6) (ficus_dt) and TIMESTAMP(6) (ficus_ts) columns"
  local db ty
  for db in ficus_dt ficus_ts; do
    ty=DATETIME
    [ $db = ficus_ts ] && ty=TIMESTAMP
    sql "CREATE DATABASE $db CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
      CREATE TABLE $db.profiles (user_id CHAR(36) CHARACTER SET ascii NOT NULL PRIMARY KEY,
        updated_us $ty(6) NOT NULL, created_us $ty(6) NOT NULL);
      CREATE TABLE $db.profile_attributes (user_id CHAR(36) CHARACTER SET ascii NOT NULL,
        attr_key VARCHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
        attr_value VARCHAR(1024) NULL, updated_us $ty(6) NOT NULL, PRIMARY KEY (user_id, attr_key));
      CREATE TABLE $db.profile_history (id BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
        user_id CHAR(36) CHARACTER SET ascii NOT NULL, ts_us $ty(6) NOT NULL,
        attributes MEDIUMTEXT NOT NULL, idem_key VARCHAR(128) NULL, created_us $ty(6) NOT NULL);"
  done
  # New York wall times: winter (-05:00), summer (-04:00), and 01:30 on the fold day
  # (happens twice; the earlier, EDT, is taken).
  sql "INSERT INTO ficus_dt.profiles VALUES
         ('$d1', '2021-01-15 07:00:00.000001', '2020-01-01 00:00:00'),
         ('$d2', '2021-07-15 08:00:00.5', '2020-01-01 00:00:00'),
         ('$d3', '2021-11-07 01:30:00', '2020-01-01 00:00:00');
       INSERT INTO ficus_dt.profile_attributes VALUES
         ('$d1', 'plan', 'winter', '2021-01-15 07:00:00.000001'),
         ('$d1', 'nickname', NULL, '2021-01-15 06:00:00'),
         ('$d2', 'plan', 'summer', '2021-07-15 08:00:00.5'),
         ('$d3', 'plan', 'fold', '2021-11-07 01:30:00');
       SET time_zone = '+08:00';
       INSERT INTO ficus_ts.profiles VALUES ('$t1', '2021-07-15 20:00:00.25', '2021-07-15 20:00:00');
       INSERT INTO ficus_ts.profile_attributes VALUES ('$t1', 'plan', 'instant', '2021-07-15 20:00:00.25');"

  step "backfill with --legacy-tz America/New_York"
  expect_rc 0 M backfill --mysql-db ficus_dt --legacy-tz America/New_York --checkpoint "$STATE/cp-dt"
  expect_out "written            3"
  local want
  for want in "$d1 2021-01-15T12:00:00.000001Z winter" "$d2 2021-07-15T12:00:00.500000Z summer" \
    "$d3 2021-11-07T05:30:00.000000Z fold"; do
    set -- $want
    [ "$(writer_get "$1" | jq -r '.data.updated_at + " " + .data.attributes.plan')" = "$2 $3" ] ||
      fail "$1: want updated_at $2 plan $3, writer says $(writer_get "$1")"
  done
  [ "$(writer_get "$d1" | jq -r '.data.attributes | has("nickname")')" = false ] || fail "tombstone lost"

  step "a TIMESTAMP column is an instant: the legacy zone does not apply"
  expect_rc 0 M backfill --mysql-db ficus_ts --legacy-tz America/New_York --checkpoint "$STATE/cp-ts"
  [ "$(writer_get "$t1" | jq -r .data.updated_at)" = 2021-07-15T12:00:00.250000Z ] ||
    fail "TIMESTAMP read wrongly: $(writer_get "$t1")"

  step "per-key stamps too: the nickname tombstone (06:00 NY = 11:00Z) beats a 10:30Z write"
  writer_update "$d1" 1610706600000000 '{"nickname":"stale"}'  # 2021-01-15T10:30:00Z
  [ "$(writer_get "$d1" | jq -r '.data.attributes | has("nickname")')" = false ] ||
    fail "tombstone stamped as UTC wall time, not New York: $(writer_get "$d1")"
  expect_rc 0 M verify --mysql-db ficus_dt --legacy-tz America/New_York
  expect_out "result             PARITY"

  step "repair writes DATETIME back as New York wall time (writer newer)"
  writer_update "$d1" 1640995200000000 '{"plan":"new-year"}'  # 2022-01-01T00:00:00Z
  expect_rc 0 M verify --mysql-db ficus_dt --legacy-tz America/New_York --repair \
    --legacy-direct-sql --mismatches "$STATE/mm-dt.jsonl"
  expect_out "repaired           1 (failed 0)"
  [ "$(jq -r .repair "$STATE/mm-dt.jsonl")" = modern_to_legacy ] || fail "direction"
  [ "$(sql "SELECT CONCAT(a.attr_value, ' ', a.updated_us, ' ', p.updated_us)
            FROM ficus_dt.profile_attributes a JOIN ficus_dt.profiles p USING (user_id)
            WHERE a.user_id='$d1' AND a.attr_key='plan'")" = \
    "new-year 2021-12-31 19:00:00.000000 2021-12-31 19:00:00.000000" ] ||
    fail "legacy DATETIME not written as NY wall time: $(sql "SELECT * FROM ficus_dt.profile_attributes WHERE user_id='$d1'")"
  [ "$(sql "SELECT ts_us FROM ficus_dt.profile_history WHERE user_id='$d1'")" = "2021-12-31 19:00:00.000000" ] ||
    fail "history ts_us not NY wall time"
  expect_rc 0 M verify --mysql-db ficus_dt --legacy-tz America/New_York
  expect_out "result             PARITY"

  step "a zero DATETIME stops the run naming the column and value (exit 3)"
  sql "SET SESSION sql_mode = ''; INSERT INTO ficus_dt.profiles VALUES
         ('d1000000-0000-4000-8000-000000000009', '0000-00-00 00:00:00', '2020-01-01 00:00:00')"
  expect_rc 3 M backfill --mysql-db ficus_dt --legacy-tz America/New_York --checkpoint "$STATE/cp-dt" --restart
  expect_err "profiles.updated_us: DATETIME '0000-00-00 00:00:00.000000': zero date"
}

# Values are bytes: escapes, quotes, control characters, NUL, 4-byte UTF-8 and
# a value of exactly 1024 bytes survive both directions unchanged (compared as hex).
case_bytes() {
  start_mysql
  start_writer
  local b1=b1000000-0000-4000-8000-000000000001 b2=b1000000-0000-4000-8000-000000000002
  # esc: a\b"c'd<TAB>e<LF>f<CR>g   ctl: NUL 0x01 0x7f   uni: U+1F600 U+2028 U+4E2D
  # lit: the text \u0000 (backslash, not NUL)   max: 512 x U+00E9 (1024 bytes)
  local esc ctl=00017F uni lit max
  esc=$(printf 'a\\b"c'"'"'d\te\nf\rg' | hex)
  uni=$(printf '\360\237\230\200\342\200\250\344\270\255' | hex)
  lit=$(printf '%s' '\u0000' | hex)
  max=$(printf 'C3A9%.0s' $(seq 512))
  sql "INSERT INTO profiles VALUES ('$b1', 2000, 1), ('$b2', 2000, 1);
       INSERT INTO profile_attributes VALUES
         ('$b1', 'esc', UNHEX('$esc'), 1000), ('$b1', 'ctl', UNHEX('$ctl'), 1000),
         ('$b1', 'uni', UNHEX('$uni'), 1000), ('$b1', 'lit', UNHEX('$lit'), 1000),
         ('$b1', 'a.b:c-d_E9', UNHEX('$max'), 2000), ('$b2', 'esc', UNHEX('$esc'), 2000);"
  [ "$(sql "SELECT LENGTH(attr_value) FROM profile_attributes WHERE attr_key='a.b:c-d_E9'")" = 1024 ] ||
    fail "generator: max value not 1024 bytes"

  same_bytes() {  # same_bytes USER KEY: legacy and writer hold identical bytes
    local l w
    l=$(sql "SELECT HEX(attr_value) FROM profile_attributes WHERE user_id='$1' AND attr_key='$2'")
    w=$(writer_get "$1" | jq -j --arg k "$2" '.data.attributes[$k]' | hex)
    [ -n "$l" ] && [ "$l" = "$w" ] || fail "$1 $2: legacy hex '$l', writer hex '$w'"
  }

  step "legacy -> writer (backfill)"
  expect_rc 0 M backfill --checkpoint "$STATE/cp"
  expect_out "written            2"
  local k
  for k in esc ctl uni lit a.b:c-d_E9; do same_bytes "$b1" "$k"; done
  same_bytes "$b2" esc
  [ "$(writer_get "$b1" | jq -j .data.attributes.esc | hex)" = "$esc" ] || fail "esc changed"
  expect_rc 0 M verify
  expect_out "result             PARITY"

  step "writer -> legacy (verify --repair, writer newer)"
  writer_update "$b1" 3000 '{"esc":"\"\\\t\u0000\ud83d\ude00 '"'"'x","ctl":null,"new":"\u2028\\u0000"}'
  writer_update "$b2" 3000 '{"esc":"'"$(printf 'é%.0s' $(seq 512))"'"}'
  expect_rc 1 M verify --mismatches "$STATE/mm.jsonl"
  [ "$(jq -r 'select(.user_id=="'"$b1"'") | .keys[] | select(.key=="esc") | .modern' "$STATE/mm.jsonl" | head -c 3 | hex)" = 225C09 ] ||
    fail "mismatch record does not carry the writer's bytes: $(cat "$STATE/mm.jsonl")"
  expect_rc 0 M verify --repair --legacy-direct-sql --mismatches "$STATE/mm2.jsonl"
  expect_out "repaired           2 (failed 0)"
  for k in esc uni lit new a.b:c-d_E9; do same_bytes "$b1" "$k"; done
  same_bytes "$b2" esc
  [ "$(sql "SELECT HEX(attr_value) FROM profile_attributes WHERE user_id='$b1' AND attr_key='esc'")" = \
    225C0900F09F9880202778 ] || fail "esc not written byte for byte"
  [ "$(sql "SELECT COUNT(*) FROM profile_attributes WHERE user_id='$b1' AND attr_key='ctl' AND attr_value IS NULL AND updated_us=3000")" = 1 ] ||
    fail "ctl not a tombstone at the writer's stamp"
  [ "$(sql "SELECT MIN(JSON_VALID(attributes)) FROM profile_history WHERE user_id IN ('$b1', '$b2')")" = 1 ] ||
    fail "history rows are not valid JSON"
  expect_rc 0 M verify
  expect_out "result             PARITY"

  step "users the writer rejects are counted, listed with its reason, and passed (exit 1)"
  local b3=b1000000-0000-4000-8000-000000000003 b4=b1000000-0000-4000-8000-000000000004
  sql "INSERT INTO profiles VALUES ('$b3', 5000, 1), ('$b4', 5000, 1);
       INSERT INTO profile_attributes VALUES ('$b3', 'bad key', 'x', 5000),
         ('$b4', 'plan', REPEAT('é', 600), 5000);"  # 600 chars fit the column, 1200 bytes do not fit the contract
  expect_rc 1 M backfill --checkpoint "$STATE/cp" --restart --failures "$STATE/failures.jsonl"
  cat "$STATE/last.out"
  expect_out "failed             2  (see $STATE/failures.jsonl)"
  expect_out "written            2"
  expect_out "state              complete"
  [[ "$(jq -r --arg u "$b3" 'select(.user_id == $u) | .error' "$STATE/failures.jsonl")" == \
    *"key bad key: bad_key: key must be 1 to 64 bytes of [A-Za-z0-9_.:-]"* ]] ||
    fail "failure of $b3 does not give the writer's reason: $(cat "$STATE/failures.jsonl")"
  [[ "$(jq -r --arg u "$b4" 'select(.user_id == $u) | .error' "$STATE/failures.jsonl")" == \
    *"key plan: value_too_long: value of 1200 bytes (limit 1024)"* ]] ||
    fail "failure of $b4 does not give the writer's reason: $(cat "$STATE/failures.jsonl")"
}

# The writer dies (SIGKILL) during a backfill: the migrator stops with exit 3
# naming it, the checkpoint never passes an unacknowledged user, and a resume
# against the restarted writer (same data dir, new port) completes with parity.
case_writer_down() {
  local n=30000
  start_mysql
  start_writer
  generate $n
  step "backfill; SIGKILL the writer midway"
  M_bg backfill --checkpoint "$STATE/cp" --workers 32 --retry-deadline-ms 2000 \
    >"$STATE/backfill1.out" 2>"$STATE/backfill1.log"
  local i done=0
  for ((i = 0; i < 1200; i++)); do
    done=$(checkpoint_profiles)
    [ "$done" -ge 5000 ] && break
    kill -0 "$MIGRATOR_PID" 2>/dev/null || fail "migrator ended before the writer was killed"
    sleep 0.05
  done
  kill -KILL "$WRITER_PID"
  wait "$WRITER_PID" 2>/dev/null || true
  WRITER_PID=""
  local rc=0
  wait "$MIGRATOR_PID" || rc=$?
  MIGRATOR_PID=""
  cat "$STATE/backfill1.out"
  [ $rc = 3 ] || fail "writer down: exit $rc, expected 3"
  grep -qF "error: writer $WRITER_URL" "$STATE/backfill1.log" || fail "error does not name the writer"
  done=$(checkpoint_profiles)
  echo "stopped with $done profiles checkpointed"
  [ "$done" -ge 5000 ] && [ "$done" -lt $n ] || fail "expected a partial checkpoint, got $done"

  step "every checkpointed user is in the restarted writer (acknowledged = durable)"
  start_writer
  local p last
  for p in 0 1 2 3; do
    last=$(jq -r ".partitions[$p].last_done" "$STATE/cp")
    [ -n "$last" ] || continue
    [ "$(writer_get "$last" | jq -r .ret)" = 200 ] || fail "checkpointed user $last missing after the crash"
  done

  step "resume against the restarted writer, then parity"
  expect_rc 0 M backfill --checkpoint "$STATE/cp"
  expect_out "resumed from       $done"
  expect_out "state              complete"
  expect_rc 0 M verify
  expect_out "checked            $n"
  expect_out "result             PARITY"
}

# The bulk path: kill -9 and Ctrl-C mid-run, resume, bulk verify, parity.
case_bulk_resume() {
  local n=60000
  start_mysql
  start_writer
  generate $n
  step "bulk backfill (rate-limited so it can be killed midway), SIGKILL"
  M_bg backfill --checkpoint "$STATE/cp" --partitions 4 --rate 15000 --failures "$STATE/f.jsonl" \
    >"$STATE/b1.out" 2>"$STATE/b1.log"
  local i done=0
  for ((i = 0; i < 1200; i++)); do
    done=$(checkpoint_profiles)
    [ "$done" -ge 15000 ] && break
    kill -0 "$MIGRATOR_PID" 2>/dev/null || fail "migrator ended before it could be killed"
    sleep 0.1
  done
  kill -KILL "$MIGRATOR_PID"
  wait "$MIGRATOR_PID" 2>/dev/null || true
  MIGRATOR_PID=""
  done=$(checkpoint_profiles)
  [ "$done" -ge 15000 ] && [ "$done" -lt $n ] || fail "expected a partial checkpoint, got $done"
  step "every checkpointed user is in the writer (sample of 200 below the marks)"
  local u missing=0
  while read -r u; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$WRITER_URL/api/v2/profile/get?user_id=$u")" = 200 ] ||
      missing=$((missing + 1))
  done < <(jq -r '.partitions[] | select(.last_done != "") | .last_done' "$STATE/cp" | while read -r m; do
    sql "SELECT user_id FROM profiles WHERE user_id <= '$m' ORDER BY user_id DESC LIMIT 50"; done)
  [ $missing = 0 ] || fail "$missing checkpointed users missing in the writer"
  step "resume to the end"
  expect_rc 0 M backfill --checkpoint "$STATE/cp" --partitions 4 --failures "$STATE/f.jsonl"
  cat "$STATE/last.out"
  expect_out "resumed from       $done"
  expect_out "state              complete"
  expect_out "bulk import)"
  step "bulk verify: parity"
  expect_rc 0 M verify --mismatches "$STATE/mm.jsonl"
  cat "$STATE/last.out"
  expect_out "checked            $n"
  expect_out "reads              bulk read"
  expect_out "result             PARITY"
  local live
  live=$(sql 'SELECT COUNT(*) FROM profile_attributes WHERE attr_value IS NOT NULL')
  expect_out "live attributes    legacy $live, new store $live"
  step "a writer with the bulk endpoints refuses a wrong token: exit 3 naming the file"
  echo "wrong-secret" >"$STATE/wrong.token"
  expect_rc 3 M verify --writer-token-file "$STATE/wrong.token"
  expect_err "refused the token from --writer-token-file"
}

# Legacy ids in upper or mixed case are invisible through the
# monolith (it lower-cases ids and matches exactly). check reports them (and
# the other rows the contract cannot carry, and orphans); backfill never
# migrates them (no merging into the visible row); verify reports them and
# --repair never touches the visible row.
case_ids() {
  start_legacy
  start_writer
  local lo=c1000000-0000-4000-8000-00000000000a up=C1000000-0000-4000-8000-00000000000A
  local only=C2000000-0000-4000-8000-00000000000B bad=c3000000-0000-4000-8000-000000000003
  local secs=c4000000-0000-4000-8000-000000000004
  local long=c6000000-0000-4000-8000-000000000006 zero=c7000000-0000-4000-8000-000000000007
  sql "INSERT INTO profiles VALUES ('$lo', 1600000000000100, 1), ('$up', 1600000000000200, 1),
         ('$only', 1600000000000300, 1), ('$bad', 1600000000000400, 1), ('$secs', 1600000000, 1),
         ('$long', 1600000000000600, 1), ('$zero', 1600000000000700, 1);
       INSERT INTO profile_attributes VALUES
         ('$lo', 'plan', 'visible', 1600000000000100),
         ('$up', 'plan', 'invisible', 1600000000000200), ('$up', 'extra', 'x', 1600000000000200),
         ('$only', 'plan', 'nobody-sees-me', 1600000000000300),
         ('$bad', 'bad key', 'v', 1600000000000400),
         ('$secs', 'plan', 'seconds', 1600000000),
         ('$long', 'bio', REPEAT('é', 600), 1600000000000600),
         ('$zero', 'plan', 'v', 1600000000000700), ('$zero', 'locale', 'de', 0),
         ('c5000000-0000-4000-8000-000000000005', 'plan', 'orphan', 1600000000000500);"
  [ "$(sql "SELECT COUNT(*) FROM profiles WHERE user_id IN ('$lo', '$up')")" = 2 ] ||
    fail "schema folds case: this case needs a case-sensitive user_id"

  step "check reports each kind (exit 1), changes nothing"
  expect_rc 1 M check --findings "$STATE/findings.jsonl"
  cat "$STATE/last.out"
  expect_out "blocked users      5"
  expect_out "orphan users       1"
  expect_out "result             FINDINGS"
  kind_of() { jq -r --arg u "$1" 'select(.user_id == $u) | .kind' "$STATE/findings.jsonl" | sort -u | paste -sd,; }
  [ "$(kind_of "$up")" = non_canonical_id ] || fail "upper-case id not reported: $(cat "$STATE/findings.jsonl")"
  [ "$(kind_of "$only")" = non_canonical_id ] || fail "upper-only id not reported"
  [ "$(kind_of "$bad")" = bad_key ] || fail "bad key not reported"
  [ "$(kind_of "$secs")" = bad_timestamp ] || fail "seconds-as-microseconds not reported"
  [ "$(kind_of "$long")" = value_too_long ] || fail "value over 1024 bytes not reported"
  [ "$(kind_of "$zero")" = bad_timestamp ] || fail "a stamp of 0 not reported"
  [ "$(kind_of c5000000-0000-4000-8000-000000000005)" = orphan_attributes ] || fail "orphan not reported"
  [ "$(kind_of "$lo")" = "" ] || fail "the canonical row was reported"

  step "backfill migrates the visible row only; the others are reported failures (exit 1)"
  expect_rc 1 M backfill --checkpoint "$STATE/cp" --failures "$STATE/failures.jsonl"
  cat "$STATE/last.out"
  expect_out "failed             5"
  [ "$(writer_get "$lo" | jq -c .data.attributes)" = '{"plan":"visible"}' ] ||
    fail "the upper-case row was merged into the visible user: $(writer_get "$lo")"
  [ "$(jq -r 'select(.user_id=="'"$only"'") | .error' "$STATE/failures.jsonl")" != "" ] ||
    fail "upper-only user not listed as a failure"
  [ "$(curl -s -o /dev/null -w '%{http_code}' "$WRITER_URL/api/v2/profile/get?user_id=$only")" = 404 ] ||
    fail "the invisible upper-only row was made visible"

  step "verify reports the non-canonical rows; --repair never touches the visible row"
  # (repairs towards legacy would go through the monolith: FICUS_LEGACY_URL)
  expect_rc 1 M verify --repair --mismatches "$STATE/mm.jsonl"
  cat "$STATE/last.out"
  expect_out "non-canonical legacy ids"
  expect_out "result             MISMATCH"
  [ "$(jq -r 'select(.user_id=="'"$up"'") | .kind' "$STATE/mm.jsonl")" = non_canonical_id ] ||
    fail "upper-case row not reported as non_canonical_id: $(cat "$STATE/mm.jsonl")"
  [ "$(sql "SELECT GROUP_CONCAT(attr_key, '=', attr_value) FROM profile_attributes WHERE user_id='$lo'")" = "plan=visible" ] ||
    fail "repair wrote the invisible row's values into the visible row"
  [ "$(writer_get "$lo" | jq -c .data.attributes)" = '{"plan":"visible"}' ] || fail "writer row changed"
}

# A user whose later group the contract rejects is not
# half-migrated: nothing of it reaches the writer, on both paths.
case_whole_user() {
  start_mysql
  start_writer
  local u1=d1000000-0000-4000-8000-000000000001 u2=d2000000-0000-4000-8000-000000000002
  local ok=d3000000-0000-4000-8000-000000000003
  for u in "$u1" "$u2"; do
    sql "INSERT INTO profiles VALUES ('$u', 1600000000000200, 1);
         INSERT INTO profile_attributes VALUES ('$u', 'plan', 'early', 1600000000000100),
           ('$u', 'bio', REPEAT('é', 600), 1600000000000200);"
  done
  sql "INSERT INTO profiles VALUES ('$ok', 1600000000000100, 1);
       INSERT INTO profile_attributes VALUES ('$ok', 'plan', 'fine', 1600000000000100);"
  step "bulk path"
  expect_rc 1 M backfill --checkpoint "$STATE/cp1" --failures "$STATE/f1.jsonl"
  expect_out "failed             2"
  expect_out "bulk import)"
  step "per-update path (no token)"
  expect_rc 1 env -u FICUS_WRITER_BULK_TOKEN_FILE "$MIGRATOR" backfill --progress plain \
    --checkpoint "$STATE/cp2" --failures "$STATE/f2.jsonl"
  expect_out "per-update API"
  expect_out "failed             2"
  for u in "$u1" "$u2"; do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$WRITER_URL/api/v2/profile/get?user_id=$u")" = 404 ] ||
      fail "$u half-migrated: $(writer_get "$u")"
  done
  [ "$(writer_get "$ok" | jq -r .data.attributes.plan)" = fine ] || fail "the good user is missing"
  grep -q "value_too_long" "$STATE/f1.jsonl" || fail "failure reason missing: $(cat "$STATE/f1.jsonl")"
}

# profiles.updated_us is compared with the writer's updated_at.
case_updated_at() {
  start_mysql
  start_writer
  generate 200
  expect_rc 0 M backfill --checkpoint "$STATE/cp"
  expect_rc 0 M verify
  expect_out "result             PARITY"
  local u
  u=$(sql "SELECT user_id FROM profiles ORDER BY user_id LIMIT 1")
  step "legacy's updated_at moved behind the API's back: reported (exit 1)"
  sql "UPDATE profiles SET updated_us = updated_us + 5000000 WHERE user_id='$u'"
  expect_rc 1 M verify --mismatches "$STATE/mm.jsonl"
  cat "$STATE/last.out"
  expect_out "also 1 with only updated_at differing"
  expect_out "result             MISMATCH"
  [ "$(jq -r .kind "$STATE/mm.jsonl")" = updated_at ] || fail "kind: $(cat "$STATE/mm.jsonl")"
  [ "$(jq -r .user_id "$STATE/mm.jsonl")" = "$u" ] || fail "wrong user reported"
  step "--repair cannot move updated_at through an API: says so, exit 1"
  expect_rc 1 M verify --repair --mismatches "$STATE/mm2.jsonl"
  expect_out "result             MISMATCH"
  [[ "$(jq -r .repair_error "$STATE/mm2.jsonl")" == *"only updated_at differs"* ]] || fail "$(cat "$STATE/mm2.jsonl")"
}

# A writer from before the bulk endpoints (the real writer with
# --no-bulk-endpoints: 404 on /internal/*): with a token the migrator asks
# once, gets 404 and backfills and verifies through the single-update API.
case_bulk_fallback() {
  local n=3000
  start_mysql
  start_writer --no-bulk-endpoints
  generate $n
  step "the writer answers 404 on the bulk endpoints, like an older writer"
  [ "$(curl -s -o /dev/null -w '%{http_code}' -XPOST -H "Authorization: Bearer e2e-bulk-secret" \
    "$WRITER_URL/internal/profile/get")" = 404 ] || fail "the bulk read did not answer 404"
  step "backfill with a token falls back to the per-update API"
  expect_rc 0 M backfill --checkpoint "$STATE/cp" --failures "$STATE/f.jsonl"
  cat "$STATE/last.out"
  expect_out "written            $n ($((2 * n)) updates acknowledged in $((2 * n)) requests, per-update API)"
  expect_out "state              complete"
  step "verify falls back to one read per user: parity"
  expect_rc 0 M verify --mismatches "$STATE/mm.jsonl"
  cat "$STATE/last.out"
  expect_out "checked            $n"
  expect_out "result             PARITY"
  expect_out "reads              per-user GET"
  [ "$(writer_get "$(sql "SELECT user_id FROM profiles ORDER BY user_id LIMIT 1")" | jq -r .ret)" = 200 ] ||
    fail "a user is missing in the writer"
}

"case_$CASE"
[ "$FAILURES" = 0 ] || { echo "FAILED: $CASE ($FAILURES checks failed)" >&2; exit 1; }
echo "PASS: $CASE"
