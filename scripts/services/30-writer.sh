# The profile writer for `make run` (sourced by scripts/run.sh): the C++
# service on its embedded RocksDB store, 127.0.0.1:$FICUS_WRITER_PORT, data in
# $RUN_DIR/writer/db, pid file $RUN_DIR/writer/writer.pid, log
# $RUN_DIR/logs/writer.log. Starting when it already runs does nothing.
# Extra flags: FICUS_WRITER_ARGS (e.g. "--threads 2"); FICUS_WRITER_* variables
# are read by the binary itself (see profile-writer --help). The bulk
# endpoints (migrator backfill/verify, the binlog follower) are on with the
# token in $RUN_DIR/writer/bulk.token (made once, mode 600).
source "$FICUS_ROOT/scripts/lib.sh"

WRITER_DIR=$RUN_DIR/writer
WRITER_PID=$WRITER_DIR/writer.pid
WRITER_LOG=$RUN_DIR/logs/writer.log
WRITER_BIN=${FICUS_WRITER_BIN:-$BUILD_DIR/apps/profile-writer/profile-writer}

writer_alive() {
  local pid
  [ -f "$WRITER_PID" ] || return 1
  pid=$(cat "$WRITER_PID" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

svc_start() {
  mkdir -p "$WRITER_DIR" "$RUN_DIR/logs"
  if writer_alive; then
    echo "profile-writer already running (pid $(cat "$WRITER_PID"))"
    return 0
  fi
  if [ ! -x "$WRITER_BIN" ]; then
    echo "profile-writer binary not found at $WRITER_BIN (run make build-all)" >&2
    return 1
  fi
  local port=$FICUS_WRITER_PORT i
  [ -f "$WRITER_DIR/bulk.token" ] ||
    (umask 077 && echo "migrator:$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n')" >"$WRITER_DIR/bulk.token")
  # shellcheck disable=SC2086 # FICUS_WRITER_ARGS is a list of flags
  setsid "$WRITER_BIN" --listen "127.0.0.1:$port" --data-dir "$WRITER_DIR/db" \
    --bulk-token-file "$WRITER_DIR/bulk.token" ${FICUS_WRITER_ARGS:-} </dev/null >>"$WRITER_LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$WRITER_PID"
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then  # exited (port taken, bad flag): fail now
      rm -f "$WRITER_PID"
      echo "profile-writer exited during start; see $WRITER_LOG:" >&2
      tail -n 5 "$WRITER_LOG" >&2
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/readyz" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "profile-writer not ready on 127.0.0.1:$port after 30 s; see $WRITER_LOG" >&2
  stop_pidfile "$WRITER_PID" 5
  return 1
}

svc_stop() {
  # SIGTERM drains in-flight requests and flushes the store (exit 0).
  stop_pidfile "$WRITER_PID" 30
}

svc_urls() {
  echo "  profile writer   http://127.0.0.1:$FICUS_WRITER_PORT  (POST /api/v2/profile/update, GET /api/v2/profile/get, /healthz, /readyz, /metrics; bulk token $WRITER_DIR/bulk.token)"
}
