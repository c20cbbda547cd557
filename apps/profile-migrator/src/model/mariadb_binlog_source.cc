#include "model/mariadb_binlog_source.h"

#include <mysql.h>
#include <mysqld_error.h>
// mariadb_rpl.h needs mysql.h first.
#include <mariadb_rpl.h>

#include <string>

namespace ficus::migrator {

namespace {

std::string Where(const MySqlOptions& o) {
  return o.socket.empty() ? o.host + ":" + std::to_string(o.port) : o.socket;
}

Result<MYSQL*> Connect(const MySqlOptions& o, const char* database) {
  MYSQL* db = mysql_init(nullptr);
  if (!db) return MakeError(ErrorCode::kInternal, "mysql: out of memory");
  unsigned int ct = static_cast<unsigned int>(o.connect_timeout_s);
  unsigned int rt = static_cast<unsigned int>(o.read_timeout_s);
  mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
  mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &rt);
  if (!o.socket.empty()) {
    unsigned int proto = MYSQL_PROTOCOL_SOCKET;
    mysql_options(db, MYSQL_OPT_PROTOCOL, &proto);
  }
  const char* host = o.socket.empty() ? o.host.c_str() : "localhost";
  if (!mysql_real_connect(db, host, o.user.c_str(), o.password.c_str(), database,
                          static_cast<unsigned int>(o.port),
                          o.socket.empty() ? nullptr : o.socket.c_str(), 0)) {
    const unsigned code = mysql_errno(db);
    std::string msg = "mysql " + Where(o) + " (user " + o.user + "): " + mysql_error(db);
    mysql_close(db);
    return MakeError(
        code == ER_ACCESS_DENIED_ERROR ? ErrorCode::kInvalidArgument : ErrorCode::kUnavailable,
        msg);
  }
  return db;
}

Result<std::string> QueryOne(MYSQL* db, const MySqlOptions& o, const std::string& sql,
                             int column = 0) {
  if (mysql_query(db, sql.c_str()) != 0) {
    return MakeError(ErrorCode::kUnavailable,
                     "mysql " + Where(o) + ": " + mysql_error(db) + " in: " + sql);
  }
  MYSQL_RES* res = mysql_store_result(db);
  if (!res) return MakeError(ErrorCode::kInternal, "mysql " + Where(o) + ": no result for " + sql);
  MYSQL_ROW row = mysql_fetch_row(res);
  std::string out;
  if (row && row[column]) out = row[column];
  const bool found = row != nullptr;
  mysql_free_result(res);
  if (!found) return MakeError(ErrorCode::kNotFound, "mysql " + Where(o) + ": no row for " + sql);
  return out;
}

std::string Quote(MYSQL* db, const std::string& s) {
  std::string out(s.size() * 2 + 1, '\0');
  out.resize(mysql_real_escape_string(db, out.data(), s.data(), s.size()));
  return "'" + out + "'";
}

class MariaDbBinlogSource final : public BinlogSource {
 public:
  explicit MariaDbBinlogSource(BinlogSourceOptions o) : o_(std::move(o)) {}
  ~MariaDbBinlogSource() override {
    if (event_) mariadb_free_rpl_event(event_);
    if (rpl_) mariadb_rpl_close(rpl_);
    if (db_) mysql_close(db_);
  }

  Status Open(const std::string& position) override {
    auto db = Connect(o_.db, nullptr);
    if (!db) return tl::unexpected(db.error());
    db_ = *db;
    auto checksum = QueryOne(db_, o_.db, "SELECT @@global.binlog_checksum");
    if (!checksum) return tl::unexpected(checksum.error());
    checksum_ = *checksum != "NONE";
    const std::string setup[] = {
        "SET @master_binlog_checksum = @@global.binlog_checksum",
        "SET @mariadb_slave_capability = 4",
        "SET @slave_connect_state = " + Quote(db_, position),
        "SET @slave_gtid_strict_mode = 1",
        "SET @slave_gtid_ignore_duplicates = 0",
        "SET @master_heartbeat_period = " +
            std::to_string(std::int64_t{o_.heartbeat_ms} * 1'000'000),
    };
    for (const auto& sql : setup) {
      if (mysql_query(db_, sql.c_str()) != 0) {
        return MakeError(ErrorCode::kUnavailable,
                         "mysql " + Where(o_.db) + ": " + mysql_error(db_) + " in: " + sql);
      }
    }
    rpl_ = mariadb_rpl_init(db_);
    if (!rpl_) return MakeError(ErrorCode::kInternal, "mariadb_rpl_init failed");
    mariadb_rpl_optionsv(rpl_, MARIADB_RPL_SERVER_ID, static_cast<unsigned int>(o_.server_id));
    mariadb_rpl_optionsv(rpl_, MARIADB_RPL_START, static_cast<unsigned long>(4));
    mariadb_rpl_optionsv(rpl_, MARIADB_RPL_FLAGS, static_cast<unsigned int>(0));
    if (mariadb_rpl_open(rpl_) != 0) return ServerError("COM_BINLOG_DUMP");
    return {};
  }

  Result<std::span<const std::uint8_t>> Next() override {
    if (!rpl_) return MakeError(ErrorCode::kInternal, "binlog source not open");
    MARIADB_RPL_EVENT* ev = mariadb_rpl_fetch(rpl_, event_);
    if (!ev) {
      // After a failed fetch libmariadb (3.3) has already released the
      // event it was handed: freeing it again in the destructor crashed
      // the follower on every lost connection. Forget it (at worst one
      // event's memory per reconnect).
      event_ = nullptr;
      return tl::unexpected(ServerError("reading the binlog").error());
    }
    event_ = ev;
    if (ev->raw_data_size < 1 + 19) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "mysql " + Where(o_.db) + ": binlog packet of " +
                           std::to_string(ev->raw_data_size) + " bytes");
    }
    // raw_data holds the protocol's OK byte (0x00), then the event.
    return std::span<const std::uint8_t>(ev->raw_data + 1, ev->raw_data_size - 1);
  }

  bool checksum() const override { return checksum_; }
  std::string Describe() const override { return Where(o_.db); }

 private:
  Status ServerError(const char* what) {
    const unsigned code = mysql_errno(db_);
    std::string text = mysql_error(db_);
    if (code == 0 && rpl_ && mariadb_rpl_errno(rpl_) != 0) text = mariadb_rpl_error(rpl_);
    const std::string msg =
        "mysql " + Where(o_.db) + ": " + what + ": " + text + " (" + std::to_string(code) + ")";
    if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG &&
        (text.find("GTID") != std::string::npos || text.find("purged") != std::string::npos)) {
      return MakeError(ErrorCode::kPreconditionFailed, msg);
    }
    if (code == ER_ACCESS_DENIED_ERROR || code == ER_SPECIFIC_ACCESS_DENIED_ERROR) {
      return MakeError(ErrorCode::kInvalidArgument, msg);
    }
    if (code == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
      return MakeError(ErrorCode::kInvalidArgument, msg);
    }
    return MakeError(ErrorCode::kUnavailable, msg);
  }

  BinlogSourceOptions o_;
  MYSQL* db_ = nullptr;
  MARIADB_RPL* rpl_ = nullptr;
  MARIADB_RPL_EVENT* event_ = nullptr;
  bool checksum_ = true;
};

}  // namespace

std::unique_ptr<BinlogSource> MakeMariaDbBinlogSource(const BinlogSourceOptions& options) {
  return std::make_unique<MariaDbBinlogSource>(options);
}

Result<std::string> SnapshotGtidPosition(const MySqlOptions& o) {
  auto db = Connect(o, nullptr);
  if (!db) return tl::unexpected(db.error());
  MYSQL* m = *db;
  auto fail = [&](const std::string& sql) {
    std::string msg = "mysql " + Where(o) + ": " + mysql_error(m) + " in: " + sql;
    mysql_close(m);
    return MakeError(ErrorCode::kUnavailable, msg);
  };
  const char* begin = "START TRANSACTION WITH CONSISTENT SNAPSHOT";
  if (mysql_query(m, begin) != 0) return fail(begin);
  auto file = QueryOne(m, o, "SHOW STATUS LIKE 'binlog_snapshot_file'", 1);
  auto pos = QueryOne(m, o, "SHOW STATUS LIKE 'binlog_snapshot_position'", 1);
  if (!file || !pos) {
    mysql_close(m);
    return tl::unexpected(!file ? file.error() : pos.error());
  }
  if (file->empty()) {
    mysql_close(m);
    return MakeError(
        ErrorCode::kPreconditionFailed,
        "mysql " + Where(o) + ": the binary log is off (log_bin); the follower needs it");
  }
  auto gtid = QueryOne(m, o, "SELECT BINLOG_GTID_POS(" + Quote(m, *file) + ", " + *pos + ")");
  mysql_query(m, "COMMIT");
  mysql_close(m);
  return gtid;
}

Result<std::string> ServerGtidPosition(const MySqlOptions& o) {
  auto db = Connect(o, nullptr);
  if (!db) return tl::unexpected(db.error());
  auto pos = QueryOne(*db, o, "SELECT @@global.gtid_binlog_pos");
  mysql_close(*db);
  return pos;
}

}  // namespace ficus::migrator
