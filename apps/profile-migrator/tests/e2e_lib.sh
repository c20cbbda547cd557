# Helpers shared by the migrator's black-box scripts (e2e.sh, cdc_e2e.sh).
# Sourced after the script has set SRC, STATE (its temp dir) and
# MYSQL_STARTED=0; its EXIT trap stops what these start.

# fail MSG: stops the case; with FICUS_E2E_KEEP_GOING=1 it counts the failure
# in FAILURES and goes on (to list every check an older binary fails; the
# script exits 1 at the end when FAILURES > 0).
FAILURES=0
fail() {
  echo "FAIL: $*" >&2
  if [ "${FICUS_E2E_KEEP_GOING:-0}" = 1 ]; then
    FAILURES=$((FAILURES + 1))
    return 0
  fi
  exit 1
}
step() { echo "== $*"; }

# start_mysql: the project's MariaDB (binlog on) alone, its env sourced.
start_mysql() {
  "$SRC/scripts/stack/legacy-stack.sh" start-mysql "$STATE/legacy" >"$STATE/mysql.env" \
    2>"$STATE/mysql-start.log" || fail "legacy-stack.sh start-mysql failed"
  MYSQL_STARTED=1
  set -a
  # shellcheck disable=SC1091
  source "$STATE/mysql.env"
  set +a
}

# sql QUERY: tab-separated rows. -r (raw): values as stored, no \\ \t \n escapes
# (batch mode escapes them otherwise); compare binary-sensitive values via HEX().
sql() {
  mariadb --default-character-set=utf8mb4 -S "$FICUS_MYSQL_SOCKET" -u "$FICUS_MYSQL_USER" \
    -p"$FICUS_MYSQL_PASSWORD" "$FICUS_MYSQL_DB" -N -B -r -e "$1"
}

# wait_writer_url: the URL the writer (WRITER_PID) printed in $STATE/writer.out,
# as WRITER_URL and exported FICUS_WRITER_URL.
wait_writer_url() {
  local i
  WRITER_URL=""
  for ((i = 0; i < 100; i++)); do
    WRITER_URL=$(sed -n 's/^profile-writer listening on \(http:[^ ]*\).*/\1/p' "$STATE/writer.out")
    [ -n "$WRITER_URL" ] && break
    kill -0 "$WRITER_PID" 2>/dev/null || fail "profile-writer exited at start"
    sleep 0.1
  done
  [ -n "$WRITER_URL" ] || fail "profile-writer did not report its port"
  export FICUS_WRITER_URL=$WRITER_URL
}
