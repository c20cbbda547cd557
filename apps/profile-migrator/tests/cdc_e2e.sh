#!/usr/bin/env bash
# Black-box tests of the CDC follower (`profile-migrator follow` / `status`)
# against a real MariaDB with the binlog on (scripts/stack/legacy-stack.sh
# start-mysql) and the real profile-writer (port 0, temp data dir). Each
# case starts and stops its own servers. SQL is written straight into
# MariaDB with the mariadb client; the `shadow` case also runs the monolith
# (nginx + php-fpm) and the strangler proxy in shadow mode.
# The writer runs with a bulk token (FICUS_WRITER_BULK_TOKEN_FILE, read by
# the follower too), so the follower applies through the bulk import unless
# a case says otherwise (`single`: a writer without the token's file).
#
#   cdc_e2e.sh CASE MIGRATOR_BIN BUILD_DIR
#   CASE: sql | kill9 | backfill | purged | faults | single | reject | reconnect | shadow | proxy
# Writer binary: $FICUS_WRITER_BIN, else BUILD_DIR/apps/profile-writer/profile-writer.
set -euo pipefail
CASE=$1
MIGRATOR=$2
BUILD_DIR=$3
SRC=${FICUS_SOURCE_DIR:-$(cd "$(dirname "$0")/../../.." && pwd)}
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}
source "$SRC/scripts/lib.sh"

STATE=$(mktemp -d "${TMPDIR:-/tmp}/ficus-cdc-e2e.XXXXXX")
WRITER_PID=""
FOLLOW_PID=""
LOAD_PID=""
MYSQL_STARTED=0
cleanup() {
  local rc=$?
  [ -n "$LOAD_PID" ] && kill -KILL "$LOAD_PID" 2>/dev/null || true
  [ -n "$FOLLOW_PID" ] && kill -KILL "$FOLLOW_PID" 2>/dev/null || true
  if [ -n "$WRITER_PID" ] && kill -0 "$WRITER_PID" 2>/dev/null; then
    kill -TERM "$WRITER_PID" 2>/dev/null || true
    wait "$WRITER_PID" 2>/dev/null || true
  fi
  [ -n "${PROXY_PID:-}" ] && { kill -TERM "$PROXY_PID" 2>/dev/null; wait "$PROXY_PID" 2>/dev/null; } || true
  [ $MYSQL_STARTED -eq 1 ] && "$SRC/scripts/stack/legacy-stack.sh" stop "$STATE/legacy" >/dev/null 2>&1
  if [ $rc -ne 0 ]; then
    echo "--- FAILED ($CASE); logs:" >&2
    for f in "$STATE"/*.log "$STATE"/*.out; do
      [ -f "$f" ] && { echo "== $f" >&2; tail -25 "$f" >&2; }
    done
  fi
  rm -rf "$STATE"
  exit $rc
}
trap cleanup EXIT
# shellcheck source=e2e_lib.sh
source "$SRC/apps/profile-migrator/tests/e2e_lib.sh"


root_sql() {
  mariadb --no-defaults -S "$FICUS_MYSQL_SOCKET" -uroot -N -B -e "$1"
}

echo "cdc:e2e-bulk-secret" >"$STATE/bulk.token"
export FICUS_WRITER_BULK_TOKEN_FILE="$STATE/bulk.token"

start_writer() {
  mkdir -p "$STATE/writer-data"
  : >"$STATE/writer.out"
  "$WRITER_BIN" --listen "127.0.0.1:${1:-0}" --data-dir "$STATE/writer-data" "${@:2}" \
    >"$STATE/writer.out" 2>>"$STATE/writer.log" &
  WRITER_PID=$!
  wait_writer_url
}

# start_follow [ARGS...]: the follower in the background (FOLLOW_PID), its
# /metrics URL in METRICS (port FOLLOW_METRICS_LISTEN, default any free one).
# expect_follower_exit3 SECONDS: the follower must exit 3 within SECONDS
# (bounded: a follower that goes on is killed and the case fails).
expect_follower_exit3() {
  local rc=0 i
  for ((i = 0; i < $1 * 10; i++)); do
    kill -0 "$FOLLOW_PID" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$FOLLOW_PID" 2>/dev/null; then
    kill -KILL "$FOLLOW_PID"
    fail "follower still running $1 s after the change that must stop it (expected exit 3)"
  fi
  wait "$FOLLOW_PID" || rc=$?
  FOLLOW_PID=""
  [ $rc = 3 ] || fail "follower exit $rc, expected 3"
}

start_follow() {
  rm -f "$STATE/metrics.port"
  "$MIGRATOR" follow --checkpoint "$STATE/binlog.cp" --metrics-listen "${FOLLOW_METRICS_LISTEN:-127.0.0.1:0}" \
    --metrics-port-file "$STATE/metrics.port" --failures "$STATE/failures.jsonl" "$@" \
    >>"$STATE/follow.out" 2>>"$STATE/follow.log" &
  FOLLOW_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$STATE/metrics.port" ] && break
    kill -0 "$FOLLOW_PID" 2>/dev/null || fail "follower exited at start"
    sleep 0.05
  done
  METRICS=http://127.0.0.1:$(cat "$STATE/metrics.port")/metrics
}

metric() { curl -s "$METRICS" | awk -v m="$1" '$1 == m {print $2}'; }

writer_attrs() {  # writer_attrs USER -> compact JSON of the live attributes, or 404
  local out
  out=$(curl -s "$WRITER_URL/api/v2/profile/get?user_id=$1")
  if [ "$(jq -r .ret <<<"$out")" = 404 ]; then echo 404; else jq -cS .data.attributes <<<"$out"; fi
}

# within_1s USER WANT: the writer shows WANT for USER within 1 s (polled).
within_1s() {
  local start got
  start=$(date +%s%N)
  while true; do
    got=$(writer_attrs "$1")
    [ "$got" = "$2" ] && break
    if (($(date +%s%N) - start > 1000000000)); then
      fail "user $1: writer shows $got, expected $2 within 1 s"
    fi
    sleep 0.02
  done
  echo "   $1 -> $2 after $((($(date +%s%N) - start) / 1000000)) ms"
}

# caught_up SECONDS: the follower's checkpoint reaches the server's position.
caught_up() {
  local target i
  target=$(sql "SELECT @@gtid_binlog_pos")
  for ((i = 0; i < $1 * 10; i++)); do
    [ "$(jq -r .gtid "$STATE/binlog.cp" 2>/dev/null)" = "$target" ] && return 0
    sleep 0.1
  done
  fail "follower did not reach $target in $1 s (checkpoint: $(cat "$STATE/binlog.cp" 2>/dev/null))"
}

verify() {
  "$MIGRATOR" verify --writer-url "$WRITER_URL" --mismatches "$STATE/mismatches.jsonl" \
    --progress none >"$STATE/verify.out" 2>"$STATE/verify.log" || {
    cat "$STATE/verify.out" "$STATE/mismatches.jsonl" >&2
    fail "verify: mismatches"
  }
  echo "   verify: $(grep -m1 -i 'users' "$STATE/verify.out")"
}

uuid() { printf '%08x-0000-4000-8000-%012x' "$1" "$2"; }

# sql_load N SEED: N random single-statement writes (insert/upsert with a
# NOW(6) stamp, bare updates that keep the stamp, key deletes, whole-profile
# deletes, multi-row transactions) over 200 users, as a script for one client.
sql_load() {
  awk -v n="$1" -v seed="$2" 'BEGIN {
    srand(seed);
    for (i = 0; i < n; i++) {
      u = sprintf("%08x-0000-4000-8000-%012x", 77, int(rand() * 200));
      k = "k" int(rand() * 6);
      r = rand();
      now = "CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED)";
      if (r < 0.55) {
        printf("INSERT INTO profiles VALUES (\"%s\", %s, %s) ON DUPLICATE KEY UPDATE updated_us = VALUES(updated_us);\n", u, now, now);
        printf("INSERT INTO profile_attributes VALUES (\"%s\", \"%s\", \"v%d\", %s) ON DUPLICATE KEY UPDATE attr_value = VALUES(attr_value), updated_us = VALUES(updated_us);\n", u, k, i, now);
      } else if (r < 0.70) {
        printf("UPDATE profile_attributes SET attr_value = \"bare%d\" WHERE user_id = \"%s\" AND attr_key = \"%s\";\n", i, u, k);
      } else if (r < 0.80) {
        printf("DELETE FROM profile_attributes WHERE user_id = \"%s\" AND attr_key = \"%s\";\n", u, k);
      } else if (r < 0.85) {
        printf("BEGIN; DELETE FROM profile_attributes WHERE user_id = \"%s\"; DELETE FROM profiles WHERE user_id = \"%s\"; COMMIT;\n", u, u);
      } else if (r < 0.95) {
        printf("BEGIN; INSERT INTO profiles VALUES (\"%s\", %s, %s) ON DUPLICATE KEY UPDATE updated_us = VALUES(updated_us);", u, now, now);
        for (j = 0; j < 3; j++) printf(" INSERT INTO profile_attributes VALUES (\"%s\", \"m%d\", \"t%d\", %s) ON DUPLICATE KEY UPDATE attr_value = VALUES(attr_value), updated_us = VALUES(updated_us);", u, j, i, now);
        printf(" COMMIT;\n");
      } else {
        printf("BEGIN; INSERT INTO profile_attributes VALUES (\"%s\", \"rb\", \"never\", %s) ON DUPLICATE KEY UPDATE attr_value = \"never\"; ROLLBACK;\n", u, now);
      }
      if (i % 50 == 0) printf("DO SLEEP(0.01);\n");
    }
  }'
}

case_sql() {
  start_mysql
  start_writer
  step "the replication account has REPLICATION SLAVE only"
  local grants
  grants=$(root_sql "SHOW GRANTS FOR '$FICUS_MYSQL_REPL_USER'@'localhost'" | head -1)
  [[ $grants == "GRANT REPLICATION SLAVE ON *.* TO \`$FICUS_MYSQL_REPL_USER\`@\`localhost\`"* ]] ||
    fail "grants: $grants"
  [ "$(sql "SELECT CONCAT(@@log_bin, @@binlog_format, @@binlog_row_image, @@binlog_row_metadata)")" = ONROWFULLFULL ] ||
    fail "binlog settings"
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")"

  local a b c d e
  a=$(uuid 1 1) b=$(uuid 1 2) c=$(uuid 1 3) d=$(uuid 1 4) e=$(uuid 1 5)
  step "insert, update of one key, delete of a key: each in the writer within 1 s"
  sql "INSERT INTO profiles VALUES ('$a', 1700000000000002, 1); INSERT INTO profile_attributes VALUES
       ('$a', 'plan', 'pro', 1700000000000001), ('$a', 'locale', 'zh-CN', 1700000000000002)"
  within_1s "$a" '{"locale":"zh-CN","plan":"pro"}'
  sql "UPDATE profile_attributes SET attr_value = 'team' WHERE user_id = '$a' AND attr_key = 'plan'"
  within_1s "$a" '{"locale":"zh-CN","plan":"team"}'
  sql "DELETE FROM profile_attributes WHERE user_id = '$a' AND attr_key = 'locale'"
  within_1s "$a" '{"plan":"team"}'
  # A tombstone written as the monolith does: the row kept, value NULL, a new stamp.
  sql "UPDATE profile_attributes SET attr_value = NULL, updated_us = CAST(UNIX_TIMESTAMP(NOW(6)) * 1000000 AS SIGNED) WHERE user_id = '$a'"
  within_1s "$a" '{}'

  step "delete of a whole profile (and a key only the writer has)"
  sql "INSERT INTO profiles VALUES ('$b', 2, 1); INSERT INTO profile_attributes VALUES ('$b', 'x', '1', 1000), ('$b', 'y', '2', 1000)"
  within_1s "$b" '{"x":"1","y":"2"}'
  curl -s -XPOST -H 'Content-Type: application/json' -H 'X-Ficus-Timestamp: 1001' \
    "$WRITER_URL/api/v2/profile/update" -d "{\"user_id\":\"$b\",\"attributes\":{\"z\":\"3\"}}" >/dev/null
  sql "BEGIN; DELETE FROM profile_attributes WHERE user_id = '$b'; DELETE FROM profiles WHERE user_id = '$b'; COMMIT"
  within_1s "$b" '{}'

  step "a multi-row transaction arrives whole; a rolled-back one never"
  sql "BEGIN; INSERT INTO profiles VALUES ('$c', 5, 1);
       INSERT INTO profile_attributes VALUES ('$c', 'k1', 'a', 5), ('$c', 'k2', 'b', 5);
       INSERT INTO profile_attributes VALUES ('$c', 'k3', 'c', 5); COMMIT"
  within_1s "$c" '{"k1":"a","k2":"b","k3":"c"}'
  sql "BEGIN; INSERT INTO profiles VALUES ('$d', 5, 1); INSERT INTO profile_attributes VALUES ('$d', 'k', 'never', 5); ROLLBACK"
  sql "INSERT INTO profile_attributes VALUES ('$e', 'marker', 'after-rollback', 5)"
  within_1s "$e" '{"marker":"after-rollback"}'
  [ "$(writer_attrs "$d")" = 404 ] || fail "the rolled-back transaction reached the writer"

  step "DDL and other tables are skipped"
  sql "CREATE TABLE IF NOT EXISTS cdc_other (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO cdc_other VALUES (1, 'x');
       UPDATE users SET name = 'Li Lei 2' WHERE user_id = '6f1c2a9e-8d0b-4c1e-9a57-3f2d1b0c4e11'"
  sql "INSERT INTO profile_attributes VALUES ('$e', 'marker2', 'ok', 6)"
  within_1s "$e" '{"marker":"after-rollback","marker2":"ok"}'
  [ "$(metric ficus_cdc_ddl_skipped_total)" -ge 1 ] || fail "DDL not counted"
  [ "$(metric ficus_cdc_rows_other_tables_total)" -ge 2 ] || fail "other tables' rows not counted"

  step "metrics and status"
  caught_up 5
  [ "$(metric ficus_cdc_lag_events)" = 0 ] || fail "lag_events $(metric ficus_cdc_lag_events)"
  curl -s "$METRICS" | grep -q "ficus_cdc_last_applied_gtid{gtid=\"$(sql "SELECT @@gtid_binlog_pos")\"} 1" ||
    fail "last GTID not on /metrics"
  curl -s "$METRICS" | grep -qx 'ficus_cdc_apply_path{path="bulk"} 1' || fail "not on the bulk path"
  grep -q "applying through the writer's bulk import" "$STATE/follow.log" || fail "path not logged"
  "$MIGRATOR" status --checkpoint "$STATE/binlog.cp" >"$STATE/status.out" || fail "status failed"
  grep -q "phase:      follow" "$STATE/status.out" || fail "status: $(cat "$STATE/status.out")"
  grep -q "lag:        0 transactions behind" "$STATE/status.out" || fail "status: $(cat "$STATE/status.out")"
  verify
}

case_kill9() {
  start_mysql
  start_writer
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")" --max-batch-rows 50
  step "two bare updates of a key, kill -9 after their checkpoint, then a bare delete of it"
  local s
  s=$(uuid 4 1)
  sql "INSERT INTO profiles VALUES ('$s', 1700000000000100, 1);
       INSERT INTO profile_attributes VALUES ('$s', 'k', 'v', 1700000000000100), ('$s', 'o', 'x', 1700000000000100)"
  sql "UPDATE profile_attributes SET attr_value = 'bare1' WHERE user_id = '$s' AND attr_key = 'k'"
  sql "UPDATE profile_attributes SET attr_value = 'bare2' WHERE user_id = '$s' AND attr_key = 'k'"
  within_1s "$s" '{"k":"bare2","o":"x"}'
  caught_up 5
  kill -KILL "$FOLLOW_PID"
  wait "$FOLLOW_PID" 2>/dev/null || true
  start_follow --max-batch-rows 50
  sql "DELETE FROM profile_attributes WHERE user_id = '$s' AND attr_key = 'k'"
  within_1s "$s" '{"o":"x"}'
  step "a stream of SQL writes; the follower is killed with SIGKILL 4 times and restarted"
  sql_load 3000 7 >"$STATE/load.sql"
  mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" \
    <"$STATE/load.sql" &
  LOAD_PID=$!
  local k
  for k in 1 2 3 4; do
    sleep 0.7
    kill -KILL "$FOLLOW_PID"
    wait "$FOLLOW_PID" 2>/dev/null || true
    echo "   killed at checkpoint $(jq -r .gtid "$STATE/binlog.cp")"
    start_follow --max-batch-rows 50
  done
  wait "$LOAD_PID" || fail "SQL load failed"
  LOAD_PID=""
  caught_up 60
  [ "$(sql "SELECT COUNT(*) FROM profile_attributes")" -gt 100 ] || fail "load wrote too little"
  verify
}

case_backfill() {
  start_mysql
  start_writer
  step "20,000 profiles, backfill under a stream of SQL writes, then follow from its snapshot"
  sql "INSERT INTO profiles SELECT CONCAT(LPAD(LOWER(HEX(seq)), 8, '0'), '-1111-4000-8000-000000000000'), 1600000000000000, 1 FROM seq_1_to_20000;
       INSERT INTO profile_attributes SELECT user_id, 'plan', 'free', 1600000000000000 FROM profiles"
  sql_load 2000 11 >"$STATE/load.sql"
  mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" \
    <"$STATE/load.sql" &
  LOAD_PID=$!
  sleep 0.3
  "$MIGRATOR" backfill --writer-url "$WRITER_URL" --checkpoint "$STATE/bf.cp" \
    --binlog-checkpoint "$STATE/binlog.cp" --workers 8 --progress none \
    >"$STATE/backfill.out" 2>"$STATE/backfill.log" || fail "backfill failed"
  grep -q "binlog position of the snapshot" "$STATE/backfill.log" || fail "no position recorded"
  [ "$(jq -r .phase "$STATE/binlog.cp")" = backfilled ] || fail "phase: $(cat "$STATE/binlog.cp")"
  kill -0 "$LOAD_PID" 2>/dev/null || echo "   (the SQL stream ended before the backfill did)"
  start_follow
  wait "$LOAD_PID" || fail "SQL load failed"
  LOAD_PID=""
  caught_up 60
  verify
}

case_purged() {
  start_mysql
  start_writer
  local old
  old=$(sql "SELECT @@gtid_binlog_pos")
  sql "INSERT INTO profile_attributes VALUES ('$(uuid 3 1)', 'k', 'v', 5)"
  step "binlog purged past the checkpoint: refused, naming the GTID and asking for a backfill"
  sql "FLUSH BINARY LOGS; INSERT INTO profile_attributes VALUES ('$(uuid 3 2)', 'k', 'v', 5); FLUSH BINARY LOGS"
  root_sql "PURGE BINARY LOGS TO '$(root_sql "SHOW BINARY LOGS" | tail -1 | cut -f1)'"
  local rc=0
  timeout 30 "$MIGRATOR" follow --checkpoint "$STATE/binlog.cp" --start-gtid "$old" \
    --metrics-listen '' >"$STATE/follow.out" 2>"$STATE/follow.log" || rc=$?
  [ $rc = 3 ] || fail "follow exited $rc, expected 3"
  grep -q "the binlog no longer has the changes after GTID position '$old'" "$STATE/follow.log" ||
    fail "message lacks the GTID: $(cat "$STATE/follow.log")"
  grep -q "profile-migrator backfill --restart" "$STATE/follow.log" || fail "message lacks the remedy"
  step "without a position at all: refused, pointing at backfill"
  rm -f "$STATE/binlog.cp"
  rc=0
  "$MIGRATOR" follow --checkpoint "$STATE/binlog.cp" >/dev/null 2>"$STATE/follow.log" || rc=$?
  [ $rc = 3 ] && grep -q "Run \`profile-migrator backfill\` first" "$STATE/follow.log" ||
    fail "no-position: exit $rc: $(cat "$STATE/follow.log")"
}

case_faults() {
  start_mysql
  start_writer
  local port=${WRITER_URL##*:}
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")"
  local u
  u=$(uuid 4 1)
  step "writer down: the follower waits with backoff and its lag grows; then it catches up"
  kill -KILL "$WRITER_PID"
  wait "$WRITER_PID" 2>/dev/null || true
  WRITER_PID=""
  sql "INSERT INTO profile_attributes VALUES ('$u', 'k', 'while-down', 5)"
  sleep 3.5
  local lag
  lag=$(metric ficus_cdc_lag_seconds)
  awk -v l="$lag" 'BEGIN { exit !(l >= 2) }' || fail "lag_seconds $lag while the writer is down"
  [ "$(metric ficus_cdc_lag_events)" = 1 ] || fail "lag_events $(metric ficus_cdc_lag_events)"
  [ "$(metric ficus_cdc_writer_up)" = 0 ] || fail "writer_up not 0"
  [ "$(metric ficus_cdc_writer_retries_total)" -ge 2 ] || fail "no retries counted"
  echo "   lag ${lag}s, retries $(metric ficus_cdc_writer_retries_total)"
  start_writer "$port"
  local i
  for ((i = 0; i < 100; i++)); do
    [ "$(writer_attrs "$u")" = '{"k":"while-down"}' ] && break
    sleep 0.1
  done
  [ "$(writer_attrs "$u")" = '{"k":"while-down"}' ] || fail "not applied after the writer came back"
  caught_up 10
  [ "$(metric ficus_cdc_lag_seconds)" = 0 ] || fail "lag not back to 0"

  step "a statement-logged change to a profile table stops the follower with a clear message"
  sql "SET SESSION tx_isolation = 'REPEATABLE-READ', SESSION binlog_format = 'STATEMENT'; UPDATE profile_attributes SET attr_value = 'stmt' WHERE user_id = '$u'"
  expect_follower_exit3 10
  grep -q "statement-logged change to a profile table cannot be followed" "$STATE/follow.log" ||
    fail "message: $(tail -3 "$STATE/follow.log")"
  [ "$(writer_attrs "$u")" = '{"k":"while-down"}' ] || fail "the statement was applied anyway"
}

# An older writer (the writer's --no-bulk-endpoints: 404 on /internal/, as
# before the bulk endpoints existed): the follower falls back to single
# updates. A writer that refuses the token stops the follower.
case_single() {
  start_mysql
  start_writer 0 --no-bulk-endpoints
  step "an older writer (404 on the bulk endpoints): single updates, same results"
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")"
  local a b
  a=$(uuid 5 1) b=$(uuid 5 2)
  sql "INSERT INTO profiles VALUES ('$a', 1700000000000001, 1), ('$b', 1000, 1);
       INSERT INTO profile_attributes VALUES ('$a', 'plan', 'pro', 1700000000000001), ('$b', 'x', '1', 1000)"
  within_1s "$a" '{"plan":"pro"}'
  sql "BEGIN; DELETE FROM profile_attributes WHERE user_id = '$b'; DELETE FROM profiles WHERE user_id = '$b'; COMMIT"
  within_1s "$b" '{}'
  curl -s "$METRICS" | grep -qx 'ficus_cdc_apply_path{path="single"} 1' || fail "not on the single path"
  grep -q "applying through the single-update API" "$STATE/follow.log" || fail "fallback not logged"
  caught_up 5
  verify
  kill -TERM "$FOLLOW_PID"
  wait "$FOLLOW_PID" || fail "follower did not stop cleanly"
  FOLLOW_PID=""
  kill -TERM "$WRITER_PID"
  wait "$WRITER_PID" || true
  start_writer
  step "a token the writer refuses: a clear stop naming the token file"
  echo "not-the-secret" >"$STATE/wrong.token"
  local rc=0
  timeout 30 "$MIGRATOR" follow --checkpoint "$STATE/binlog.cp" --writer-url "$WRITER_URL" \
    --writer-token-file "$STATE/wrong.token" --metrics-listen '' >/dev/null 2>"$STATE/wrong.log" || rc=$?
  [ $rc = 3 ] || fail "follow with a refused token exited $rc, expected 3"
  grep -q "refused the token from --writer-token-file $STATE/wrong.token" "$STATE/wrong.log" ||
    fail "message: $(cat "$STATE/wrong.log")"
}

# Updates the writer refuses (a key outside the contract's alphabet): --on-reject stop
# stops before the batch's checkpoint naming the user; record (the default)
# writes them to the failures file, counts them and goes on.
case_reject() {
  start_mysql
  start_writer
  local a b c
  a=$(uuid 6 1) b=$(uuid 6 2) c=$(uuid 6 3)
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")" --on-reject stop
  step "--on-reject stop: exit 3 naming the user; the checkpoint stays before it"
  sql "INSERT INTO profile_attributes VALUES ('$a', 'k', 'ok', 5)"
  within_1s "$a" '{"k":"ok"}'
  caught_up 5
  local before
  before=$(jq -r .gtid "$STATE/binlog.cp")
  sql "INSERT INTO profile_attributes VALUES ('$b', 'bad key', 'v', 5); INSERT INTO profile_attributes VALUES ('$b', 'fine', 'yes', 6)"
  expect_follower_exit3 5
  grep -q "the writer rejected 1 update(s) of the batch of GTIDs .*user $b" "$STATE/follow.log" ||
    fail "message: $(tail -2 "$STATE/follow.log")"
  [ "$(jq -r .gtid "$STATE/binlog.cp")" = "$before" ] || fail "checkpoint moved past the rejected change"
  grep -q "\"user_id\":\"$b\"" "$STATE/failures.jsonl" || fail "rejection not in the failures file"
  step "record (default): recorded, counted, the rest of the change and later ones applied"
  : >"$STATE/failures.jsonl"
  start_follow
  sql "INSERT INTO profile_attributes VALUES ('$c', 'k', 'after', 5)"
  within_1s "$c" '{"k":"after"}'
  [ "$(writer_attrs "$b")" = '{"fine":"yes"}' ] || fail "the accepted key of $b: $(writer_attrs "$b")"
  [ "$(metric ficus_cdc_updates_rejected_total)" = 1 ] || fail "rejections counted: $(metric ficus_cdc_updates_rejected_total)"
  [ "$(wc -l <"$STATE/failures.jsonl")" = 1 ] && grep -q 'bad key: key must be' "$STATE/failures.jsonl" ||
    fail "failures file: $(cat "$STATE/failures.jsonl")"
  caught_up 5
}

# MariaDB killed (SIGKILL) and restarted while the follower follows a stream
# of SQL writes: it reconnects from its position and loses nothing.
case_reconnect() {
  start_mysql
  start_writer
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")" --max-batch-rows 100
  step "SQL writes; MariaDB SIGKILLed mid-stream, restarted on the same port"
  sql_load 1500 21 >"$STATE/load1.sql"
  mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" \
    <"$STATE/load1.sql" 2>/dev/null &
  LOAD_PID=$!
  sleep 1
  local mpid i
  mpid=$(cat "$STATE/legacy/mariadb/mysqld.pid")
  kill -KILL "$mpid"
  wait "$LOAD_PID" 2>/dev/null || true  # the client loses its connection
  LOAD_PID=""
  for ((i = 0; i < 100; i++)); do
    kill -0 "$mpid" 2>/dev/null || break
    sleep 0.1
  done
  for ((i = 0; i < 50; i++)); do
    [ "$(metric ficus_cdc_binlog_connected)" = 0 ] && break
    sleep 0.1
  done
  [ "$(metric ficus_cdc_binlog_connected)" = 0 ] || fail "connection loss not seen"
  FICUS_MYSQL_PORT=$FICUS_MYSQL_PORT start_mysql
  sql_load 1500 22 >"$STATE/load2.sql"
  mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" \
    <"$STATE/load2.sql" || fail "SQL load after the restart failed"
  caught_up 30
  [ "$(metric ficus_cdc_binlog_connected)" = 1 ] || fail "not reconnected"
  [ "$(metric ficus_cdc_reconnects_total)" -ge 1 ] || fail "reconnect not counted"
  echo "   reconnects $(metric ficus_cdc_reconnects_total), rows applied $(metric ficus_cdc_rows_applied_total)"
  verify
}

# The proxy in shadow mode at the same time as the follower: the monolith
# (nginx + php-fpm) and the writer behind a real ficus-proxy; API writes go
# through the proxy (legacy answers, the writer gets the mirrored copy) while
# SQL writes go straight into MariaDB, and the follower replays every change
# of the binlog (the API writes too, with the stamps the proxy gave them).
# Group A users get API writes only (reads are compared all along), group B
# users get API and SQL writes. Checks: verify exit 0 (no divergence), no
# mismatch on any read or update: an update of a group B user that races an
# SQL write differs for a moment (the follower not there yet); the proxy
# re-reads the user from both sides before reporting and counts it as
# transient instead. The re-read window is 10 x 1 s (default 3 x 1 s): on a
# loaded CI machine the follower has been more than 3 s behind for a moment
# (one update reported as a mismatch, the stores equal right after); a real
# difference outlasts 10 s and is still reported.
case_shadow() {
  local proxy_bin=${FICUS_PROXY_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-proxy}
  [ -x "$proxy_bin" ] || fail "ficus-proxy not built at $proxy_bin"
  "$SRC/scripts/stack/legacy-stack.sh" start "$STATE/legacy" >"$STATE/mysql.env" \
    2>"$STATE/mysql-start.log" || fail "legacy-stack.sh start failed"
  MYSQL_STARTED=1
  set -a
  # shellcheck disable=SC1091
  source "$STATE/mysql.env"
  set +a
  start_writer
  mkdir -p "$STATE/proxy"
  echo "cdc-e2e-admin-token" >"$STATE/proxy/admin.token"
  cat >"$STATE/proxy/proxy.yaml" <<YAML
listen: 127.0.0.1:0
admin: {listen: 127.0.0.1:0, token_file: admin.token}
backends:
  legacy: {url: $FICUS_LEGACY_URL}
  modern: {url: $WRITER_URL, health: /healthz}
cohorts:
  profiles: {key: [header:X-User-Id, query:user_id, json:user_id], salt: "ficus-1"}
routes:
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: profiles
    mode: shadow
    compare: {ignore: [data.updated_at], recheck_tries: 10}
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: profiles
    mode: shadow
    compare: {ignore: [data.updated_at], recheck_tries: 10}
YAML
  "$proxy_bin" --config "$STATE/proxy/proxy.yaml" --ready-file "$STATE/proxy/ready.json" \
    --replay-dir "$STATE/proxy/replay" >"$STATE/proxy.out" 2>"$STATE/proxy.log" &
  PROXY_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$STATE/proxy/ready.json" ] && break
    kill -0 "$PROXY_PID" 2>/dev/null || fail "ficus-proxy exited at start"
    sleep 0.1
  done
  local proxy admin
  proxy=http://127.0.0.1:$(jq -r .listen "$STATE/proxy/ready.json")
  admin=http://127.0.0.1:$(jq -r .admin "$STATE/proxy/ready.json")
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")" --max-batch-rows 200

  step "API writes through the proxy (groups A and B), SQL writes (group B), reads of group A, all at once"
  # Group A: uuid(8, 0..59). Group B: the 200 users of sql_load (uuid(77, 0..199)).
  # curl config files: one transfer per group, groups separated by "next";
  # the JSON has no spaces, so it goes unquoted (taken literally).
  awk -v seed=31 -v PROXY="$proxy" 'BEGIN {
    srand(seed);
    for (i = 0; i < 1500; i++) {
      if (rand() < 0.5) u = sprintf("%08x-0000-4000-8000-%012x", 8, int(rand() * 60));
      else u = sprintf("%08x-0000-4000-8000-%012x", 77, int(rand() * 200));
      k = "k" int(rand() * 6);
      v = (rand() < 0.15) ? "null" : sprintf("\"api%d\"", i);
      if (i > 0) print "next";
      printf("url = \"%s/api/v1/profile/update\"\nheader = \"Content-Type: application/json\"\n", PROXY);
      printf("data = {\"user_id\":\"%s\",\"attributes\":{\"%s\":%s}}\noutput = /dev/null\n", u, k, v);
    }
  }' >"$STATE/api.curl"
  awk -v seed=32 -v PROXY="$proxy" 'BEGIN {
    srand(seed);
    for (i = 0; i < 1500; i++) {
      printf("url = \"%s/api/v1/profile/get?user_id=%08x-0000-4000-8000-%012x\"\noutput = /dev/null\n", PROXY, 8, int(rand() * 60));
    }
  }' >"$STATE/reads.curl"
  sql_load 1500 33 >"$STATE/load.sql"
  mariadb -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" \
    <"$STATE/load.sql" &
  LOAD_PID=$!
  curl -sS --no-progress-meter --fail-early --parallel --parallel-max 4 --config "$STATE/api.curl" &
  local api_pid=$!
  curl -sS --no-progress-meter --parallel --parallel-max 2 --config "$STATE/reads.curl" &
  local reads_pid=$!
  wait "$LOAD_PID" || fail "SQL load failed"
  LOAD_PID=""
  wait "$api_pid" || fail "API writes failed"
  wait "$reads_pid" || fail "reads failed"
  caught_up 30
  local backlog
  for ((i = 0; i < 100; i++)); do
    backlog=$(curl -s "$admin/metrics" | awk '/^ficus_proxy_replay_backlog/ {s += $2} END {print s + 0}')
    [ "$backlog" = 0 ] && break
    sleep 0.1
  done
  [ "$backlog" = 0 ] || fail "proxy replay backlog stays at $backlog"
  # Group B users whose profiles row an SQL statement deleted are left out:
  # legacy answers 404 for them, the writer 200 {} (it keeps tombstones and
  # has no whole-profile delete): a known, documented difference.
  step "then one read of every group A user and every group B user legacy still has, through the proxy"
  {
    for ((i = 0; i < 60; i++)); do echo "url = \"$proxy/api/v1/profile/get?user_id=$(uuid 8 "$i")\""; echo "output = /dev/null"; done
    sql "SELECT user_id FROM profiles WHERE user_id LIKE '0000004d-%'" |
      while read -r u; do echo "url = \"$proxy/api/v1/profile/get?user_id=$u\""; echo "output = /dev/null"; done
  } >"$STATE/final.curl"
  curl -sS --no-progress-meter --parallel --parallel-max 4 --config "$STATE/final.curl" ||
    fail "final reads failed"
  # The last comparisons finish after the answers, and a difference is held
  # for its re-read (up to recheck_tries x recheck_ms) before it counts.
  local held=1
  for ((i = 0; i < 150; i++)); do
    sleep 0.1
    held=$(curl -s "$admin/metrics" | awk '/^ficus_proxy_recheck_held / {print $2}')
    [ "$held" = 0 ] && break
  done
  [ "$held" = 0 ] || fail "re-checks still held after 15 s: $held"
  verify
  local m
  m=$(curl -s "$admin/metrics")
  local compared_get mismatched_get compared_upd mismatched_upd
  compared_get=$(awk '/^ficus_proxy_compared_total\{route="profile-get"\}/ {print $2}' <<<"$m")
  mismatched_get=$(awk '/^ficus_proxy_mismatches_total\{route="profile-get"\}/ {print $2}' <<<"$m")
  compared_upd=$(awk '/^ficus_proxy_compared_total\{route="profile-update"\}/ {print $2}' <<<"$m")
  mismatched_upd=$(awk '/^ficus_proxy_mismatches_total\{route="profile-update"\}/ {print $2}' <<<"$m")
  echo "   proxy: reads compared $compared_get, mismatched $mismatched_get; updates compared $compared_upd, mismatched $mismatched_upd"
  [ "${compared_get:-0}" -ge 500 ] || fail "too few reads compared: $compared_get"
  [ "${compared_upd:-0}" -ge 500 ] || fail "too few updates compared: $compared_upd"
  [ "$mismatched_get" = 0 ] || {
    curl -s -H "Authorization: Bearer cdc-e2e-admin-token" "$admin/admin/mismatches?route=profile-get&limit=3" >&2
    fail "$mismatched_get read mismatches"
  }
  [ "$mismatched_upd" = 0 ] || {
    curl -s -H "Authorization: Bearer cdc-e2e-admin-token" \
      "$admin/admin/mismatches?route=profile-update&limit=3" >&2
    fail "$mismatched_upd update mismatches (a difference the follower explains must be re-checked away)"
  }
  # Updates of group B users racing an SQL write of the same user differ
  # for a moment (the follower not there yet): held, read again, gone.
  echo "   transient differences re-checked away: updates $(awk '/^ficus_proxy_not_compared_total\{route="profile-update",reason="transient"\}/ {print $2}' <<<"$m"), reads $(awk '/^ficus_proxy_not_compared_total\{route="profile-get",reason="transient"\}/ {print $2}' <<<"$m")"
}

# The proxy's view of the follower (its dashboard panel): a real ficus-proxy
# whose cdc.metrics_url is the real follower's /metrics. /admin/status "cdc"
# shows the follower's last GTID (the server's position once caught up), its
# lag and events/s; `lagging` while the writer is down and the lag passes
# lag_warn_s; `unreachable` (with the reason, the last GTID kept) while the
# follower is stopped; ok again when it is back; not_configured once a reload
# drops `cdc:`. A bad cdc key is refused at start naming the key.
case_proxy() {
  local proxy_bin=${FICUS_PROXY_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-proxy}
  [ -x "$proxy_bin" ] || fail "ficus-proxy not built at $proxy_bin"
  start_mysql
  start_writer
  local wport=${WRITER_URL##*:}
  start_follow --start-gtid "$(sql "SELECT @@gtid_binlog_pos")"
  local mlisten=127.0.0.1:${METRICS#http://127.0.0.1:}
  mlisten=${mlisten%/metrics}
  mkdir -p "$STATE/proxy"
  proxy_yaml() {
    printf 'listen: 127.0.0.1:0\nadmin: {listen: 127.0.0.1:0}\n'
    printf 'backends:\n  legacy: {url: %s}\n%s\n' "$WRITER_URL" "$1"
  }
  step "a bad cdc key is refused at start, naming it"
  proxy_yaml "cdc: {metrics_url: $METRICS, lag_warn_s: 0}" >"$STATE/proxy/bad.yaml"
  local rc=0
  timeout 20 "$proxy_bin" --config "$STATE/proxy/bad.yaml" >"$STATE/proxy-bad.out" 2>&1 || rc=$?
  [ $rc = 2 ] || fail "proxy with a bad cdc block exited $rc, expected 2"
  grep -q "cdc.lag_warn_s: must be between 1 and 86400" "$STATE/proxy-bad.out" ||
    fail "message: $(tail -2 "$STATE/proxy-bad.out")"

  proxy_yaml "cdc: {metrics_url: $METRICS, lag_warn_s: 2, interval_ms: 200}" >"$STATE/proxy/proxy.yaml"
  "$proxy_bin" --config "$STATE/proxy/proxy.yaml" --ready-file "$STATE/proxy/ready.json" \
    --replay-dir "$STATE/proxy/replay" >"$STATE/proxy.out" 2>"$STATE/proxy.log" &
  PROXY_PID=$!
  local i
  for ((i = 0; i < 100; i++)); do
    [ -s "$STATE/proxy/ready.json" ] && break
    kill -0 "$PROXY_PID" 2>/dev/null || fail "ficus-proxy exited at start"
    sleep 0.1
  done
  local admin
  admin=http://127.0.0.1:$(jq -r .admin "$STATE/proxy/ready.json")
  cdc() { curl -s --max-time 2 "$admin/admin/status" | jq -c .cdc; }
  proxy_metric() {  # (whole page first: grep -q ending the pipe early would fail it under pipefail)
    local page
    page=$(curl -s --max-time 2 "$admin/metrics")
    awk -v m="$1" '$1 == m {print $2}' <<<"$page"
  }
  # wait_cdc JQ_CONDITION SECONDS: the proxy's cdc object satisfies it in time.
  wait_cdc() {
    local j
    for ((i = 0; i < $2 * 10; i++)); do
      j=$(cdc)
      [ "$(jq -r "$1" <<<"$j")" = true ] && return 0
      sleep 0.1
    done
    fail "proxy cdc status: wanted $1 within $2 s, got $j"
  }

  step "caught up: state ok, the server's GTID position, lag 0"
  local u
  u=$(uuid 9 1)
  sql "INSERT INTO profile_attributes VALUES ('$u', 'k', 'v1', 5)"
  caught_up 5
  local pos
  pos=$(sql "SELECT @@gtid_binlog_pos")
  wait_cdc ".state == \"ok\" and .last_gtid == \"$pos\"" 3
  local j now
  j=$(cdc)
  now=$(date +%s%3N)
  jq -e --arg url "$METRICS" --argjson now "$now" '.url == $url and .lag_seconds == 0 and
    (.events_per_s | type) == "number" and .lag_events == 0 and .writer_up == true and
    .binlog_connected == true and .lag_warn_s == 2 and .warning == "" and .error == "" and
    ($now - .last_scrape) < 2000' <<<"$j" >/dev/null || fail "cdc: $j"
  echo "   $j"

  step "writer down: lag grows past lag_warn_s, state lagging, then ok once it is back"
  kill -KILL "$WRITER_PID"
  wait "$WRITER_PID" 2>/dev/null || true
  WRITER_PID=""
  sql "INSERT INTO profile_attributes VALUES ('$u', 'k2', 'while-down', 6)"
  wait_cdc '.state == "lagging" and .lag_seconds > 2 and .writer_up == false and .lag_events == 1' 15
  j=$(cdc)
  jq -e '.warning | test("^binlog follower lag [0-9]+\\.[0-9] s is over 2 s \\(the writer is unreachable\\)$")' \
    <<<"$j" >/dev/null || fail "warning: $j"
  [ "$(proxy_metric ficus_proxy_cdc_lagging)" = 1 ] || fail "ficus_proxy_cdc_lagging not 1"
  echo "   $j"
  start_writer "$wport"
  caught_up 15
  pos=$(sql "SELECT @@gtid_binlog_pos")
  wait_cdc ".state == \"ok\" and .lag_seconds == 0 and .last_gtid == \"$pos\"" 5

  step "follower stopped: unreachable, the reason and the last GTID shown; back: ok"
  kill -TERM "$FOLLOW_PID"
  wait "$FOLLOW_PID" || fail "follower did not stop cleanly"
  FOLLOW_PID=""
  wait_cdc ".state == \"unreachable\" and .last_gtid == \"$pos\" and (.error | test(\"connect 127.0.0.1:\")) and (.warning | startswith(\"binlog follower unreachable at $METRICS: \"))" 5
  [ "$(proxy_metric ficus_proxy_cdc_follower_up)" = 0 ] || fail "ficus_proxy_cdc_follower_up not 0"
  echo "   $(cdc)"
  FOLLOW_METRICS_LISTEN=$mlisten start_follow
  sql "INSERT INTO profile_attributes VALUES ('$u', 'k3', 'v3', 7)"
  caught_up 5
  pos=$(sql "SELECT @@gtid_binlog_pos")
  wait_cdc ".state == \"ok\" and .last_gtid == \"$pos\" and .error == \"\"" 5
  [ "$(proxy_metric ficus_proxy_cdc_follower_up)" = 1 ] || fail "ficus_proxy_cdc_follower_up not 1"

  step "a reload without cdc: not_configured"
  proxy_yaml "" >"$STATE/proxy/next.yaml"
  mv "$STATE/proxy/next.yaml" "$STATE/proxy/proxy.yaml"
  kill -HUP "$PROXY_PID"
  wait_cdc '. == {"state": "not_configured"}' 5
}

"case_$CASE"
echo "PASS: $CASE"
