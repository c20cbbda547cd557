# The legacy PHP monolith for `make run` (sourced by scripts/run.sh):
# php-fpm + nginx on 127.0.0.1:$FICUS_LEGACY_PORT, configs/sockets/pids under
# $RUN_DIR/legacy, using the MariaDB of 10-mariadb.sh. Idempotent.
source "$FICUS_ROOT/scripts/lib.sh"
source "$FICUS_ROOT/scripts/stack/lib-legacy.sh"

svc_start() {
  "$FICUS_ROOT/scripts/install-deps.sh" php
  legacy_web_start "$RUN_DIR/legacy" "$FICUS_LEGACY_PORT" "$RUN_DIR/mariadb" "$RUN_DIR/logs"
}

svc_stop() {
  legacy_web_stop "$RUN_DIR/legacy"
}

svc_urls() {
  local url="http://127.0.0.1:$FICUS_LEGACY_PORT"
  [ -f "$RUN_DIR/legacy/legacy.env" ] && url=$(sed -n 's/^FICUS_LEGACY_URL=//p' "$RUN_DIR/legacy/legacy.env")
  echo "  legacy monolith  $url  (POST /api/v1/profile/update, GET /api/v1/profile/get, GET /api/v1/user/info)"
}
