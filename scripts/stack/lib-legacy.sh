# Shared functions that start and stop the legacy stack: the project's own
# MariaDB (mariadbd), php-fpm 8.2 and nginx, each with its own config, pid
# file, socket and logs under a state directory. Sourced by
# scripts/stack/legacy-stack.sh (tests, bench) and scripts/services/10-mariadb.sh,
# 20-legacy.sh (`make run`). Never touches a system service.
#
# Layout (MDIR = mariadb state dir, LDIR = legacy web state dir):
#   MDIR/data  MDIR/my.cnf  MDIR/mysqld.sock  MDIR/mysqld.pid  MDIR/mysql.env
#   LDIR/php-fpm.conf  LDIR/php-fpm.sock  LDIR/php-fpm.pid
#   LDIR/nginx.conf    LDIR/nginx.pid     LDIR/tmp/  LDIR/legacy.env
# Logs go to the LOGDIR given to each function.
#
# Requires scripts/lib.sh (wait_port, stop_pidfile, free_port) to be sourced.

LEGACY_ROOT=${LEGACY_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
LEGACY_APP=$LEGACY_ROOT/apps/php-monolith
LEGACY_SCHEMA_DIR=$LEGACY_ROOT/packages/schema/mysql
LEGACY_DB_USER=${LEGACY_DB_USER:-ficus}
LEGACY_DB_PASSWORD=${LEGACY_DB_PASSWORD:-ficus}
LEGACY_DB_NAME=${LEGACY_DB_NAME:-ficus}
# The CDC follower's account: REPLICATION SLAVE only (reads the binlog; the
# table maps carry column names, so no SELECT on any table).
LEGACY_REPL_USER=${LEGACY_REPL_USER:-ficus_repl}
LEGACY_REPL_PASSWORD=${LEGACY_REPL_PASSWORD:-ficus_repl}
# php-fpm workers: pm=static. The endpoint is I/O-bound on MariaDB commits, so
# a few workers per core keep both cores busy while others wait on fsync.
LEGACY_FPM_WORKERS=${LEGACY_FPM_WORKERS:-8}

legacy_pid_alive() {  # legacy_pid_alive PIDFILE
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1" 2>/dev/null)
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null
}

legacy_mysql_client() {  # legacy_mysql_client MDIR [args...]: root client over the socket
  local mdir=$1
  shift
  mariadb --no-defaults --protocol=socket --socket="$mdir/mysqld.sock" -uroot "$@"
}

# legacy_mysql_start MDIR PORT LOGDIR: initialise (first time), start, create
# the database and user, apply packages/schema/mysql/*.sql. Idempotent: if
# this MDIR's mariadbd is already running it only re-applies the schema.
legacy_mysql_start() {
  local mdir=$1 port=$2 logdir=$3 userflag=() i
  mkdir -p "$mdir" "$logdir" "$mdir/tmp"
  mdir=$(cd "$mdir" && pwd)
  [ "$(id -u)" -eq 0 ] && userflag=(--user=root)
  if ! legacy_pid_alive "$mdir/mysqld.pid"; then
    if [ ! -d "$mdir/data/mysql" ]; then
      # Twice at most: on a machine under heavy load the bootstrap has been
      # seen to fail once (the second attempt starts from an empty datadir).
      for i in 1 2; do
        rm -rf "$mdir/data"
        if mariadb-install-db --no-defaults --datadir="$mdir/data" "${userflag[@]}" \
          --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
          --innodb-log-file-size=${LEGACY_INNODB_LOG_SIZE:-128M} --innodb-buffer-pool-size=32M \
          >"$logdir/mariadb-install.log" 2>&1; then
          break
        fi
        echo "mariadb-install-db failed (attempt $i); last lines of $logdir/mariadb-install.log:" >&2
        tail -n 15 "$logdir/mariadb-install.log" >&2
        [ "$i" = 2 ] && return 1
      done
    fi
    cat >"$mdir/my.cnf" <<EOF
[mariadbd]
datadir = $mdir/data
socket = $mdir/mysqld.sock
pid-file = $mdir/mysqld.pid
tmpdir = $mdir/tmp
port = $port
bind-address = 127.0.0.1
log-error = $logdir/mariadb.err
skip-name-resolve
# Binary log for the CDC follower (profile-migrator follow): row-based, full
# before/after images, column names in the table maps (so the follower needs
# no SELECT on the tables), GTIDs (always on in MariaDB once log_bin is),
# fsynced with each commit like InnoDB's log so a committed row is never
# missing from the binlog after a crash.
server_id = ${LEGACY_SERVER_ID:-1}
log_bin = $mdir/data/binlog
binlog_format = ROW
binlog_row_image = FULL
binlog_row_metadata = FULL
binlog_checksum = CRC32
sync_binlog = 1
gtid_strict_mode = 1
max_binlog_size = ${LEGACY_MAX_BINLOG_SIZE:-256M}
binlog_expire_logs_seconds = ${LEGACY_BINLOG_EXPIRE_S:-604800}
performance_schema = OFF
character-set-server = utf8mb4
collation-server = utf8mb4_bin
transaction-isolation = READ-COMMITTED
max_connections = 300
innodb_buffer_pool_size = 128M
innodb_log_file_size = ${LEGACY_INNODB_LOG_SIZE:-128M}
innodb_flush_log_at_trx_commit = 1
innodb_lock_wait_timeout = 10
EOF
    rm -f "$mdir/mysqld.sock"
    # setsid: the server must outlive the shell that started it (and not get
    # its SIGINT); stdout/stderr closed so callers reading our output finish.
    setsid mariadbd --defaults-file="$mdir/my.cnf" "${userflag[@]}" \
      </dev/null >>"$logdir/mariadb.out" 2>&1 &
    local pid=$!
    for ((i = 0; i < 300; i++)); do
      [ -S "$mdir/mysqld.sock" ] && legacy_mysql_client "$mdir" -e 'SELECT 1' >/dev/null 2>&1 && break
      kill -0 "$pid" 2>/dev/null || break  # exited (e.g. port taken): fail now, not in 30 s
      sleep 0.1
    done
    if ! legacy_mysql_client "$mdir" -e 'SELECT 1' >/dev/null 2>&1; then
      echo "mariadbd did not come up; see $logdir/mariadb.err" >&2
      return 1
    fi
  fi
  legacy_mysql_client "$mdir" <<EOF || return 1
CREATE DATABASE IF NOT EXISTS \`$LEGACY_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
CREATE USER IF NOT EXISTS '$LEGACY_DB_USER'@'localhost' IDENTIFIED BY '$LEGACY_DB_PASSWORD';
CREATE USER IF NOT EXISTS '$LEGACY_DB_USER'@'127.0.0.1' IDENTIFIED BY '$LEGACY_DB_PASSWORD';
GRANT ALL PRIVILEGES ON *.* TO '$LEGACY_DB_USER'@'localhost';
GRANT ALL PRIVILEGES ON *.* TO '$LEGACY_DB_USER'@'127.0.0.1';
CREATE USER IF NOT EXISTS '$LEGACY_REPL_USER'@'localhost' IDENTIFIED BY '$LEGACY_REPL_PASSWORD';
CREATE USER IF NOT EXISTS '$LEGACY_REPL_USER'@'127.0.0.1' IDENTIFIED BY '$LEGACY_REPL_PASSWORD';
GRANT REPLICATION SLAVE ON *.* TO '$LEGACY_REPL_USER'@'localhost';
GRANT REPLICATION SLAVE ON *.* TO '$LEGACY_REPL_USER'@'127.0.0.1';
EOF
  local f
  for f in "$LEGACY_SCHEMA_DIR"/*.sql; do
    legacy_mysql_client "$mdir" "$LEGACY_DB_NAME" <"$f" || {
      echo "schema $f failed to apply" >&2
      return 1
    }
  done
  port=$(sed -n 's/^port = //p' "$mdir/my.cnf")
  cat >"$mdir/mysql.env" <<EOF
FICUS_MYSQL_HOST=127.0.0.1
FICUS_MYSQL_PORT=$port
FICUS_MYSQL_SOCKET=$mdir/mysqld.sock
FICUS_MYSQL_USER=$LEGACY_DB_USER
FICUS_MYSQL_PASSWORD=$LEGACY_DB_PASSWORD
FICUS_MYSQL_DB=$LEGACY_DB_NAME
FICUS_MYSQL_REPL_USER=$LEGACY_REPL_USER
FICUS_MYSQL_REPL_PASSWORD=$LEGACY_REPL_PASSWORD
EOF
}

legacy_mysql_stop() {  # legacy_mysql_stop MDIR
  stop_pidfile "$1/mysqld.pid" 60
}

# legacy_web_start LDIR PORT MDIR LOGDIR: php-fpm (unix socket) + nginx on
# 127.0.0.1:PORT serving apps/php-monolith, talking to MDIR's MariaDB socket.
legacy_web_start() {
  local ldir=$1 port=$2 mdir=$3 logdir=$4 i
  mkdir -p "$ldir/tmp" "$logdir"
  ldir=$(cd "$ldir" && pwd)
  mdir=$(cd "$mdir" && pwd)
  local root_user="" fpm_root=() nginx_user=""
  if [ "$(id -u)" -eq 0 ]; then
    root_user=$'user = root\ngroup = root'
    fpm_root=(--allow-to-run-as-root)
    nginx_user="user root root;"
  fi
  if ! legacy_pid_alive "$ldir/php-fpm.pid"; then
    cat >"$ldir/php-fpm.conf" <<EOF
[global]
pid = $ldir/php-fpm.pid
error_log = $logdir/php-fpm.log
daemonize = yes

[ficus]
$root_user
listen = $ldir/php-fpm.sock
listen.mode = 0660
listen.backlog = 511
pm = static
pm.max_children = $LEGACY_FPM_WORKERS
pm.max_requests = 0
request_terminate_timeout = 15s
catch_workers_output = yes
clear_env = yes
env[FICUS_MYSQL_SOCKET] = $mdir/mysqld.sock
env[FICUS_MYSQL_USER] = $LEGACY_DB_USER
env[FICUS_MYSQL_PASSWORD] = $LEGACY_DB_PASSWORD
env[FICUS_MYSQL_DB] = $LEGACY_DB_NAME
php_admin_value[error_log] = $logdir/php-error.log
php_admin_flag[log_errors] = on
php_admin_flag[display_errors] = off
php_admin_value[memory_limit] = 128M
php_admin_value[opcache.enable] = 1
php_admin_value[opcache.validate_timestamps] = 0
php_admin_value[opcache.memory_consumption] = 64
php_admin_value[apc.enabled] = 1
php_admin_value[apc.shm_size] = 64M
php_admin_value[post_max_size] = 128K
php_admin_flag[enable_post_data_reading] = off
php_admin_flag[expose_php] = off
EOF
    rm -f "$ldir/php-fpm.sock"
    php-fpm8.2 --fpm-config "$ldir/php-fpm.conf" "${fpm_root[@]}" \
      -d opcache.enable=1 -d apc.enabled=1 </dev/null >>"$logdir/php-fpm.out" 2>&1 || {
      echo "php-fpm failed to start; see $logdir/php-fpm.log" >&2
      return 1
    }
    for ((i = 0; i < 100; i++)); do
      [ -S "$ldir/php-fpm.sock" ] && break
      sleep 0.05
    done
  fi
  if ! legacy_pid_alive "$ldir/nginx.pid"; then
    cat >"$ldir/nginx.conf" <<EOF
$nginx_user
worker_processes 1;
pid $ldir/nginx.pid;
error_log $logdir/nginx-error.log warn;
daemon on;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $ldir/tmp/body;
  fastcgi_temp_path $ldir/tmp/fastcgi;
  proxy_temp_path $ldir/tmp/proxy;
  scgi_temp_path $ldir/tmp/scgi;
  uwsgi_temp_path $ldir/tmp/uwsgi;
  server_tokens off;
  keepalive_requests 100000;
  keepalive_timeout 65s;
  # No upstream keepalive: a php-fpm worker held by an idle kept-alive
  # connection serves nobody else, which stalls requests past pm.max_children.
  upstream php_fpm { server unix:$ldir/php-fpm.sock; }
  server {
    listen 127.0.0.1:$port backlog=4096;
    # Contract check 2: bodies over 64 KiB never reach PHP.
    client_max_body_size 64k;
    client_body_buffer_size 80k;
    error_page 413 @too_large;
    error_page 502 503 504 @overloaded;
    location @too_large {
      default_type "application/json; charset=utf-8";
      return 413 '{"ret":413,"data":null,"msg":"body: larger than 65536 bytes"}';
    }
    location @overloaded {
      default_type "application/json; charset=utf-8";
      add_header Retry-After 1 always;
      return 503 '{"ret":503,"data":null,"msg":"overloaded: retry later"}';
    }
    location / {
      fastcgi_pass php_fpm;
      fastcgi_param SCRIPT_FILENAME $LEGACY_APP/public/index.php;
      fastcgi_param QUERY_STRING \$query_string;
      fastcgi_param REQUEST_METHOD \$request_method;
      fastcgi_param CONTENT_TYPE \$content_type;
      fastcgi_param CONTENT_LENGTH \$content_length;
      fastcgi_param SCRIPT_NAME /index.php;
      fastcgi_param REQUEST_URI \$request_uri;
      fastcgi_param DOCUMENT_URI \$document_uri;
      fastcgi_param DOCUMENT_ROOT $LEGACY_APP/public;
      fastcgi_param SERVER_PROTOCOL \$server_protocol;
      fastcgi_param REQUEST_SCHEME \$scheme;
      fastcgi_param GATEWAY_INTERFACE CGI/1.1;
      fastcgi_param REMOTE_ADDR \$remote_addr;
      fastcgi_param REMOTE_PORT \$remote_port;
      fastcgi_param SERVER_ADDR \$server_addr;
      fastcgi_param SERVER_PORT \$server_port;
      fastcgi_param SERVER_NAME \$server_name;
    }
  }
}
EOF
    mkdir -p "$ldir/nginx"
    /usr/sbin/nginx -p "$ldir/nginx" -c "$ldir/nginx.conf" </dev/null >>"$logdir/nginx.out" 2>&1 || {
      echo "nginx failed to start; see $logdir/nginx-error.log" >&2
      return 1
    }
  fi
  legacy_wait_health "http://127.0.0.1:$port/healthz" 30 || return 1
  cat >"$ldir/legacy.env" <<EOF
FICUS_LEGACY_URL=http://127.0.0.1:$port
EOF
}

legacy_web_stop() {  # legacy_web_stop LDIR
  stop_pidfile "$1/nginx.pid" 15
  stop_pidfile "$1/php-fpm.pid" 15
}

legacy_wait_health() {  # legacy_wait_health URL SECONDS
  local url=$1 secs=${2:-30} i
  for ((i = 0; i < secs * 10; i++)); do
    if curl -fsS -m 2 "$url" 2>/dev/null | grep -q '"status":"ok"'; then return 0; fi
    sleep 0.1
  done
  echo "timed out waiting for $url" >&2
  return 1
}
