# MariaDB for `make run` (sourced by scripts/run.sh): the project's own
# mariadbd, datadir/socket/pid under $RUN_DIR/mariadb, TCP 127.0.0.1:$FICUS_MYSQL_PORT.
# Starting when it already runs only re-applies the (idempotent) schema.
source "$FICUS_ROOT/scripts/lib.sh"
source "$FICUS_ROOT/scripts/stack/lib-legacy.sh"

svc_start() {
  "$FICUS_ROOT/scripts/install-deps.sh" db
  legacy_mysql_start "$RUN_DIR/mariadb" "$FICUS_MYSQL_PORT" "$RUN_DIR/logs"
}

svc_stop() {
  legacy_mysql_stop "$RUN_DIR/mariadb"
}

svc_urls() {
  local port=$FICUS_MYSQL_PORT
  [ -f "$RUN_DIR/mariadb/my.cnf" ] && port=$(sed -n 's/^port = //p' "$RUN_DIR/mariadb/my.cnf")
  echo "  mariadb          mysql://$LEGACY_DB_USER:$LEGACY_DB_PASSWORD@127.0.0.1:$port/$LEGACY_DB_NAME  (socket $RUN_DIR/mariadb/mysqld.sock)"
}
