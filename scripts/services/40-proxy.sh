# The strangler proxy for `make run` (sourced by scripts/run.sh): ficus-proxy
# on 127.0.0.1:$FICUS_PROXY_PORT in front of the legacy monolith
# (127.0.0.1:$FICUS_LEGACY_PORT) and the profile writer
# (127.0.0.1:$FICUS_WRITER_PORT), admin API + dashboard on
# 127.0.0.1:$FICUS_ADMIN_PORT. The profile routes start in shadow mode
# (legacy answers, the writer gets a copy on /api/v2/..., answers compared).
# Config $RUN_DIR/proxy/proxy.yaml is written when missing or when the ports
# changed (its "# ports:" line), so mode changes made through the admin API
# (written back to that file) survive a restart; delete it for the defaults.
# Its last line, `cdc: {metrics_url: ...}`, points the dashboard's binlog
# follower panel at 35-follower.sh's /metrics (kept in step with
# FICUS_FOLLOWER_METRICS_PORT; absent with FICUS_FOLLOWER=off). Pid file
# $RUN_DIR/proxy/proxy.pid, log $RUN_DIR/logs/proxy.log, access log
# $RUN_DIR/logs/proxy-access.log. Starting when it already runs does nothing.
# Extra flags: FICUS_PROXY_ARGS (e.g. "--workers 2").
source "$FICUS_ROOT/scripts/lib.sh"

PROXY_DIR=$RUN_DIR/proxy
PROXY_PID=$PROXY_DIR/proxy.pid
PROXY_CONF=$PROXY_DIR/proxy.yaml
PROXY_LOG=$RUN_DIR/logs/proxy.log
PROXY_BIN=${FICUS_PROXY_BIN:-$BUILD_DIR/apps/strangler-proxy/ficus-proxy}

proxy_alive() {
  local pid
  [ -f "$PROXY_PID" ] || return 1
  pid=$(cat "$PROXY_PID" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

# The config's cdc line (empty with FICUS_FOLLOWER=off).
proxy_cdc_line() {
  [ "${FICUS_FOLLOWER:-on}" = off ] ||
    echo "cdc: {metrics_url: http://127.0.0.1:$FICUS_FOLLOWER_METRICS_PORT/metrics}"
}

proxy_write_config() {
  [ -f "$PROXY_DIR/admin.token" ] || (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$PROXY_DIR/admin.token")
  local stamp="# ports: proxy=$FICUS_PROXY_PORT admin=$FICUS_ADMIN_PORT legacy=$FICUS_LEGACY_PORT writer=$FICUS_WRITER_PORT"
  local cdc
  cdc=$(proxy_cdc_line)
  if [ -f "$PROXY_CONF" ] && grep -qxF "$stamp" "$PROXY_CONF"; then
    # The operator's file stays; only its cdc line follows the follower.
    local want
    want=$(grep -v '^cdc:' "$PROXY_CONF"; [ -z "$cdc" ] || echo "$cdc")
    if [ "$want" != "$(cat "$PROXY_CONF")" ]; then
      echo "$want" >"$PROXY_CONF.tmp"
      mv "$PROXY_CONF.tmp" "$PROXY_CONF"
    fi
    return 0
  fi
  cat >"$PROXY_CONF.tmp" <<EOF
# ficus-proxy config written by scripts/services/40-proxy.sh (make run).
$stamp
# Edit freely: the proxy reloads it on change (and on SIGHUP).
listen: 127.0.0.1:$FICUS_PROXY_PORT
admin: {listen: 127.0.0.1:$FICUS_ADMIN_PORT, token_file: admin.token}
access_log: $RUN_DIR/logs/proxy-access.log
backends:
  legacy: {url: http://127.0.0.1:$FICUS_LEGACY_PORT}
  modern: {url: http://127.0.0.1:$FICUS_WRITER_PORT, health: /healthz}
cohorts:
  profiles: {key: [header:X-User-Id, query:user_id, json:user_id], salt: "ficus-1"}
routes:
  - name: profile-update
    match: {method: POST, path: /api/v1/profile/update}
    rewrite: {modern: /api/v2/profile/update}
    cohort: profiles
    mode: shadow            # legacy | shadow | canary | full
    percent: 0              # canary share of the cohort, 0..100
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.05, window_s: 30, min_requests: 50}
  - name: profile-get
    match: {method: GET, path: /api/v1/profile/get}
    rewrite: {modern: /api/v2/profile/get}
    cohort: profiles
    mode: shadow
    percent: 0
    compare: {ignore: [data.updated_at]}
    fallback: {error_rate: 0.05, window_s: 30, min_requests: 50}
EOF
  [ -z "$cdc" ] || echo "$cdc" >>"$PROXY_CONF.tmp"
  mv "$PROXY_CONF.tmp" "$PROXY_CONF"
}

svc_start() {
  mkdir -p "$PROXY_DIR" "$RUN_DIR/logs"
  if proxy_alive; then
    echo "ficus-proxy already running (pid $(cat "$PROXY_PID"))"
    return 0
  fi
  if [ ! -x "$PROXY_BIN" ]; then
    echo "ficus-proxy binary not found at $PROXY_BIN (run make build-all)" >&2
    return 1
  fi
  proxy_write_config
  rm -f "$PROXY_DIR/ready.json"
  # shellcheck disable=SC2086 # FICUS_PROXY_ARGS is a list of flags
  setsid "$PROXY_BIN" --config "$PROXY_CONF" --ready-file "$PROXY_DIR/ready.json" \
    ${FICUS_PROXY_ARGS:-} </dev/null >>"$PROXY_LOG" 2>&1 &
  local pid=$! i
  echo "$pid" >"$PROXY_PID"
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then  # bad config, port taken: fail now
      rm -f "$PROXY_PID"
      echo "ficus-proxy exited during start; see $PROXY_LOG:" >&2
      tail -n 5 "$PROXY_LOG" >&2
      return 1
    fi
    if [ -f "$PROXY_DIR/ready.json" ] &&
      curl -fsS -o /dev/null --max-time 1 "http://127.0.0.1:$FICUS_ADMIN_PORT/healthz" 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  echo "ficus-proxy not ready on 127.0.0.1:$FICUS_PROXY_PORT after 30 s; see $PROXY_LOG" >&2
  stop_pidfile "$PROXY_PID" 5
  return 1
}

svc_stop() {
  # SIGTERM drains: in-flight requests and their mirrors finish (exit 0).
  stop_pidfile "$PROXY_PID" 20
}

# The mode each profile route runs as the config file says ("shadow" when the
# file is missing or has no such route), e.g. "profile-update=canary 10%".
proxy_route_modes() {
  awk '
    function emit() { if (n != "") { out = out sep n "=" m (m == "canary" ? " " p "%" : "") q; sep = ", " } }
    /^  - name:/ { emit(); n = $3; m = "legacy"; p = "0"; q = "" }
    /^    mode:/ { m = $2 }
    /^    percent:/ { p = $2 }
    /^    paused: true/ { q = " (paused)" }
    END { emit(); print out }
  ' "$PROXY_CONF" 2>/dev/null
}

proxy_mode_note() {
  local modes
  modes=$(proxy_route_modes)
  [ -n "$modes" ] || modes="profile routes in shadow"
  case "$modes" in
  *canary* | *full*) echo "$modes: the writer serves its users, writes mirrored to legacy" ;;
  *shadow*) echo "$modes: legacy answers, writer mirrored" ;;
  *) echo "$modes: legacy answers, nothing mirrored" ;;
  esac
}

svc_urls() {
  echo "  strangler proxy  http://127.0.0.1:$FICUS_PROXY_PORT  ($(proxy_mode_note); config $PROXY_CONF)"
  echo "  proxy dashboard  http://127.0.0.1:$FICUS_ADMIN_PORT/  (routes, replay backlog, binlog follower; /metrics, /healthz; admin token in $PROXY_DIR/admin.token)"
}
