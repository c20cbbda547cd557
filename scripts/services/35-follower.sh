# The binlog follower for `make run` (sourced by scripts/run.sh):
# `profile-migrator follow` applies every change of the profile tables in
# MariaDB's binlog to the profile writer (its bulk import, with the writer's
# token $RUN_DIR/writer/bulk.token), /metrics on
# 127.0.0.1:$FICUS_FOLLOWER_METRICS_PORT (the proxy's `cdc:` block points its
# dashboard panel there). The first start (no binlog checkpoint yet, or a
# backfill that did not finish) runs `profile-migrator backfill` first: it
# copies the legacy profiles into the writer and records the binlog position
# of its snapshot, so backfill + follow is gap-free. State in
# $RUN_DIR/follower (binlog.cp, backfill.cp, failures.jsonl), pid file
# follower.pid, log $RUN_DIR/logs/follower.log. Starting when it already runs
# does nothing. FICUS_FOLLOWER=off: not started (the proxy's config then has
# no cdc block); extra flags: FICUS_FOLLOWER_ARGS.
source "$FICUS_ROOT/scripts/lib.sh"

FOLLOWER_DIR=$RUN_DIR/follower
FOLLOWER_PID=$FOLLOWER_DIR/follower.pid
FOLLOWER_LOG=$RUN_DIR/logs/follower.log
MIGRATOR_BIN=${FICUS_MIGRATOR_BIN:-$BUILD_DIR/apps/profile-migrator/profile-migrator}

follower_alive() {
  local pid
  [ -f "$FOLLOWER_PID" ] || return 1
  pid=$(cat "$FOLLOWER_PID" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

svc_start() {
  if [ "${FICUS_FOLLOWER:-on}" = off ]; then
    echo "binlog follower off (FICUS_FOLLOWER=off)"
    return 0
  fi
  mkdir -p "$FOLLOWER_DIR" "$RUN_DIR/logs"
  if follower_alive; then
    echo "binlog follower already running (pid $(cat "$FOLLOWER_PID"))"
    return 0
  fi
  if [ ! -x "$MIGRATOR_BIN" ]; then
    echo "profile-migrator binary not found at $MIGRATOR_BIN (run make build-all)" >&2
    return 1
  fi
  set -a
  # shellcheck disable=SC1091 # written by 10-mariadb.sh
  source "$RUN_DIR/mariadb/mysql.env"
  set +a
  export FICUS_WRITER_URL=http://127.0.0.1:$FICUS_WRITER_PORT
  export FICUS_WRITER_BULK_TOKEN_FILE=$RUN_DIR/writer/bulk.token
  local cp=$FOLLOWER_DIR/binlog.cp
  if [ ! -f "$cp" ] || [ "$(jq -r .phase "$cp" 2>/dev/null)" = backfill ]; then
    echo "binlog follower: first start, backfilling the writer from MariaDB (log $FOLLOWER_LOG)"
    if ! "$MIGRATOR_BIN" backfill --checkpoint "$FOLLOWER_DIR/backfill.cp" \
      --binlog-checkpoint "$cp" --progress none >>"$FOLLOWER_LOG" 2>&1; then
      echo "profile-migrator backfill failed; see $FOLLOWER_LOG:" >&2
      tail -n 5 "$FOLLOWER_LOG" >&2
      return 1
    fi
  fi
  local port=$FICUS_FOLLOWER_METRICS_PORT i
  # shellcheck disable=SC2086 # FICUS_FOLLOWER_ARGS is a list of flags
  setsid "$MIGRATOR_BIN" follow --checkpoint "$cp" --metrics-listen "127.0.0.1:$port" \
    --failures "$FOLLOWER_DIR/failures.jsonl" ${FICUS_FOLLOWER_ARGS:-} </dev/null \
    >>"$FOLLOWER_LOG" 2>&1 &
  local pid=$!
  echo "$pid" >"$FOLLOWER_PID"
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then  # no position, port taken, binlog purged: fail now
      rm -f "$FOLLOWER_PID"
      echo "profile-migrator follow exited during start; see $FOLLOWER_LOG:" >&2
      tail -n 5 "$FOLLOWER_LOG" >&2
      return 1
    fi
    if curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$port/metrics" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "binlog follower /metrics not up on 127.0.0.1:$port after 30 s; see $FOLLOWER_LOG" >&2
  stop_pidfile "$FOLLOWER_PID" 5
  return 1
}

svc_stop() {
  # SIGTERM: the batch in hand is applied and checkpointed (exit 0).
  stop_pidfile "$FOLLOWER_PID" 20
}

svc_urls() {
  [ "${FICUS_FOLLOWER:-on}" = off ] && return 0
  echo "  binlog follower  http://127.0.0.1:$FICUS_FOLLOWER_METRICS_PORT/metrics  (MariaDB binlog -> writer; checkpoint $FOLLOWER_DIR/binlog.cp; \`profile-migrator status --checkpoint $FOLLOWER_DIR/binlog.cp\`)"
}
