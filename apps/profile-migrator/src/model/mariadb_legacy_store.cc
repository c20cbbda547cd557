#include "model/mariadb_legacy_store.h"

#include <mysql.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <map>
#include <optional>

#include "ficus/clock.h"
#include "model/lww.h"

namespace ficus::migrator {
namespace {

class MariaDbLegacyStore final : public LegacyStore {
 public:
  MariaDbLegacyStore(MYSQL* db, MySqlOptions options) : db_(db), options_(std::move(options)) {
    zone_ = options_.legacy_zone ? options_.legacy_zone
                                 : std::make_shared<const TimeZone>(TimeZone::Utc());
  }
  ~MariaDbLegacyStore() override { mysql_close(db_); }

  std::string Describe() const override {
    return (options_.socket.empty() ? options_.host + ":" + std::to_string(options_.port)
                                    : options_.socket) +
           "/" + options_.database;
  }

  Result<std::int64_t> CountProfiles(const KeyRange& range) override {
    auto rows = Query("SELECT COUNT(*) FROM profiles WHERE " + RangeWhere(range, ""));
    if (!rows) return tl::unexpected(rows.error());
    if (rows->empty() || !rows->front()[0]) return 0;
    return std::strtoll(rows->front()[0]->c_str(), nullptr, 10);
  }

  Result<std::vector<std::string>> ReadUserIds(const KeyRange& range, const std::string& after,
                                               int limit) override {
    auto rows = Query("SELECT user_id FROM profiles WHERE " + RangeWhere(range, after) +
                      " ORDER BY user_id LIMIT " + std::to_string(limit));
    if (!rows) return tl::unexpected(rows.error());
    std::vector<std::string> ids;
    for (auto& r : *rows) ids.push_back(*r[0]);
    return ids;
  }

  Result<std::vector<LegacyProfile>> ReadChunk(const KeyRange& range, const std::string& after,
                                               int limit) override {
    if (auto s = Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); !s) {
      return tl::unexpected(s.error());
    }
    auto out = ReadChunkLocked(range, after, limit);
    auto c = Exec("COMMIT");
    if (!out) return out;
    if (!c) return tl::unexpected(c.error());
    return out;
  }

  Result<std::vector<LegacyProfile>> ReadProfiles(const std::vector<std::string>& ids) override {
    if (ids.empty()) return std::vector<LegacyProfile>{};
    std::string in;
    for (const auto& id : ids) in += (in.empty() ? "" : ",") + Quote(id);
    if (auto s = Exec("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY"); !s) {
      return tl::unexpected(s.error());
    }
    auto out = ReadWhere("user_id IN (" + in + ")", "user_id IN (" + in + ")");
    auto c = Exec("COMMIT");
    if (!out) return out;
    if (!c) return tl::unexpected(c.error());
    return out;
  }

  Result<LegacyProfile> ReadProfile(const std::string& user_id) override {
    auto out = ReadProfiles({user_id});
    if (!out) return tl::unexpected(out.error());
    if (out->empty()) {
      return MakeError(ErrorCode::kNotFound, "legacy: no profile for user " + user_id);
    }
    return std::move(out->front());
  }

  Result<std::vector<std::pair<std::string, std::int64_t>>> ReadOrphanAttributeUsers(
      int limit) override {
    auto rows = Query(
        "SELECT a.user_id, COUNT(*) FROM profile_attributes a LEFT JOIN profiles p "
        "ON p.user_id = a.user_id WHERE p.user_id IS NULL GROUP BY a.user_id ORDER BY a.user_id "
        "LIMIT " +
        std::to_string(limit));
    if (!rows) return tl::unexpected(rows.error());
    std::vector<std::pair<std::string, std::int64_t>> out;
    for (auto& r : *rows) out.emplace_back(*r[0], std::strtoll(r[1]->c_str(), nullptr, 10));
    return out;
  }

  Status ApplyUpdates(const std::string& user_id,
                      const std::vector<ProfileUpdate>& updates) override {
    if (auto s = Exec("START TRANSACTION"); !s) return s;
    auto st = ApplyLocked(user_id, updates);
    if (!st) {
      (void)Exec("ROLLBACK");
      return st;
    }
    return Exec("COMMIT");
  }

 private:
  using Row = std::vector<std::optional<std::string>>;
  struct Rows : std::vector<Row> {
    std::vector<enum_field_types> types;
  };

  static bool IsDatetime(enum_field_types t) {
    return t == MYSQL_TYPE_DATETIME || t == MYSQL_TYPE_DATETIME2;
  }
  static bool IsTimestamp(enum_field_types t) {
    return t == MYSQL_TYPE_TIMESTAMP || t == MYSQL_TYPE_TIMESTAMP2;
  }

  // Types of the timestamp columns a repair writes, from the metadata of
  // empty selects (read once per connection): an older schema may keep them
  // as DATETIME/TIMESTAMP instead of BIGINT microseconds.
  struct WriteTypes {
    enum_field_types profile_updated, profile_created, attr_updated, hist_ts, hist_created;
  };
  Result<WriteTypes> Types() {
    if (write_types_) return *write_types_;
    auto p = Query("SELECT updated_us, created_us FROM profiles LIMIT 0");
    if (!p) return tl::unexpected(p.error());
    auto a = Query("SELECT updated_us FROM profile_attributes LIMIT 0");
    if (!a) return tl::unexpected(a.error());
    auto h = Query("SELECT ts_us, created_us FROM profile_history LIMIT 0");
    if (!h) return tl::unexpected(h.error());
    write_types_ = WriteTypes{p->types[0], p->types[1], a->types[0], h->types[0], h->types[1]};
    return *write_types_;
  }

  // SQL literal of instant `us` for a column of `type`: DATETIME as the wall
  // time in the legacy zone, TIMESTAMP as UTC (the session zone), else the
  // integer microseconds.
  std::string TsLiteral(std::int64_t us, enum_field_types type) {
    if (IsDatetime(type)) return "CAST(" + Quote(UnixUsToDatetime(us, *zone_)) + " AS DATETIME(6))";
    if (IsTimestamp(type)) {
      return "CAST(" + Quote(UnixUsToDatetime(us, utc_)) + " AS DATETIME(6))";
    }
    return std::to_string(us);
  }

  Status ApplyLocked(const std::string& user_id, const std::vector<ProfileUpdate>& updates) {
    const std::string uid = Quote(user_id);
    auto types = Types();
    if (!types) return tl::unexpected(types.error());
    auto prof = Query("SELECT updated_us FROM profiles WHERE user_id = " + uid + " FOR UPDATE");
    if (!prof) return tl::unexpected(prof.error());
    const std::int64_t now_us = UnixMicros(SystemClock::WallNow());
    std::int64_t max_ts = 0;
    for (const auto& u : updates) max_ts = std::max(max_ts, u.ts_us);
    if (prof->empty()) {
      auto s = Exec("INSERT INTO profiles (user_id, updated_us, created_us) VALUES (" + uid + ", " +
                    TsLiteral(max_ts, types->profile_updated) + ", " +
                    TsLiteral(now_us, types->profile_created) + ")");
      if (!s) return s;
    } else {
      auto s = Exec("UPDATE profiles SET updated_us = GREATEST(updated_us, " +
                    TsLiteral(max_ts, types->profile_updated) + ") WHERE user_id = " + uid);
      if (!s) return s;
    }
    auto cur = Query(
        "SELECT attr_key, attr_value, updated_us FROM profile_attributes WHERE "
        "user_id = " +
        uid + " FOR UPDATE");
    if (!cur) return tl::unexpected(cur.error());
    std::map<std::string, std::pair<std::int64_t, std::optional<std::string>>> state;
    for (auto& r : *cur) {
      auto ts = Timestamp(r[2], cur->types[2], "profile_attributes.updated_us");
      if (!ts) return tl::unexpected(ts.error());
      state[*r[0]] = {*ts, r[1]};
    }
    for (const auto& u : updates) {
      std::string values;
      boost::json::object hist;
      for (const auto& [key, value] : u.attributes) {
        hist[key] = value ? boost::json::value(*value) : boost::json::value(nullptr);
        auto it = state.find(key);
        if (it != state.end() && !LwwWins(u.ts_us, value, it->second.first, it->second.second)) {
          continue;
        }
        state[key] = {u.ts_us, value};
        values += (values.empty() ? "" : ",") + std::string("(") + uid + "," + Quote(key) + "," +
                  (value ? Quote(*value) : "NULL") + "," + TsLiteral(u.ts_us, types->attr_updated) +
                  ")";
      }
      if (!values.empty()) {
        auto s = Exec(
            "INSERT INTO profile_attributes (user_id, attr_key, attr_value, updated_us) VALUES " +
            values +
            " ON DUPLICATE KEY UPDATE attr_value = VALUES(attr_value), updated_us = "
            "VALUES(updated_us)");
        if (!s) return s;
      }
      auto s = Exec(
          "INSERT INTO profile_history (user_id, ts_us, attributes, idem_key, created_us) VALUES "
          "(" +
          uid + ", " + TsLiteral(u.ts_us, types->hist_ts) + ", " +
          Quote(boost::json::serialize(hist)) + ", NULL, " +
          TsLiteral(now_us, types->hist_created) + ")");
      if (!s) return s;
    }
    return {};
  }

  Result<std::vector<LegacyProfile>> ReadChunkLocked(const KeyRange& range,
                                                     const std::string& after, int limit) {
    auto ids = Query("SELECT user_id, updated_us FROM profiles WHERE " + RangeWhere(range, after) +
                     " ORDER BY user_id LIMIT " + std::to_string(limit));
    if (!ids) return tl::unexpected(ids.error());
    if (ids->empty()) return std::vector<LegacyProfile>{};
    const std::string first = Quote(*ids->front()[0]), last = Quote(*ids->back()[0]);
    return ReadFromRows(*ids, "user_id BETWEEN " + first + " AND " + last);
  }

  Result<std::vector<LegacyProfile>> ReadWhere(const std::string& profile_where,
                                               const std::string& attr_where) {
    auto ids = Query("SELECT user_id, updated_us FROM profiles WHERE " + profile_where +
                     " ORDER BY user_id");
    if (!ids) return tl::unexpected(ids.error());
    if (ids->empty()) return std::vector<LegacyProfile>{};
    return ReadFromRows(*ids, attr_where);
  }

  Result<std::vector<LegacyProfile>> ReadFromRows(const Rows& ids, const std::string& attr_where) {
    std::vector<LegacyProfile> out;
    out.reserve(ids.size());
    std::map<std::string, std::size_t> index;
    for (const auto& r : ids) {
      auto ts = Timestamp(r[1], ids.types[1], "profiles.updated_us");
      if (!ts) return tl::unexpected(ts.error());
      index[*r[0]] = out.size();
      out.push_back(LegacyProfile{*r[0], *ts, {}});
    }
    auto attrs =
        Query("SELECT user_id, attr_key, attr_value, updated_us FROM profile_attributes WHERE " +
              attr_where + " ORDER BY user_id, attr_key");
    if (!attrs) return tl::unexpected(attrs.error());
    for (auto& r : *attrs) {
      auto it = index.find(*r[0]);
      if (it == index.end()) continue;  // attribute rows without a profiles row: not a profile
      auto ts = Timestamp(r[3], attrs->types[3], "profile_attributes.updated_us");
      if (!ts) return tl::unexpected(ts.error());
      out[it->second].keys.push_back(KeyState{std::move(*r[1]), std::move(r[2]), *ts});
    }
    return out;
  }

  Result<std::int64_t> Timestamp(const std::optional<std::string>& v, enum_field_types type,
                                 const char* column) {
    if (!v) return MakeError(ErrorCode::kInternal, std::string(column) + ": NULL timestamp");
    if (IsDatetime(type) || IsTimestamp(type)) {
      // A TIMESTAMP is an instant, sent as text in the session zone (+00:00);
      // a DATETIME is a wall time in the legacy zone.
      auto us = DatetimeToUnixUs(*v, IsTimestamp(type) ? utc_ : *zone_);
      if (!us)
        return MakeError(ErrorCode::kInternal, std::string(column) + ": " + us.error().message);
      return *us;
    }
    char* end = nullptr;
    const long long n = std::strtoll(v->c_str(), &end, 10);
    if (end == v->c_str() || *end != '\0') {
      return MakeError(ErrorCode::kInternal,
                       std::string(column) + ": '" + *v + "' is not an integer timestamp");
    }
    return static_cast<std::int64_t>(n);
  }

  std::string RangeWhere(const KeyRange& range, const std::string& after) {
    std::string w = "1=1";
    if (!after.empty()) {
      w += " AND user_id > " + Quote(after);
    } else if (!range.lo.empty()) {
      w += " AND user_id >= " + Quote(range.lo);
    }
    if (!range.hi.empty()) w += " AND user_id < " + Quote(range.hi);
    return w;
  }

  std::string Quote(const std::string& s) {
    std::string out(s.size() * 2 + 3, '\0');
    out[0] = '\'';
    const unsigned long n = mysql_real_escape_string(db_, out.data() + 1, s.data(), s.size());
    out.resize(n + 1);
    out += '\'';
    return out;
  }

  tl::unexpected<Error> DbError(const std::string& sql) {
    const unsigned int code = mysql_errno(db_);
    const bool lost = code == 2006 || code == 2013 || code == 2002 || code == 2003;
    std::string stmt = sql.substr(0, 80);
    if (sql.size() > 80) stmt += "...";
    return MakeError(lost ? ErrorCode::kUnavailable : ErrorCode::kInternal,
                     "mysql " + Describe() + ": " + mysql_error(db_) + " (" + std::to_string(code) +
                         ") in: " + stmt);
  }

  Status Exec(const std::string& sql) {
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0) return DbError(sql);
    if (MYSQL_RES* res = mysql_store_result(db_)) mysql_free_result(res);
    return {};
  }

  Result<Rows> Query(const std::string& sql) {
    if (mysql_real_query(db_, sql.data(), sql.size()) != 0) return DbError(sql);
    MYSQL_RES* res = mysql_store_result(db_);
    if (!res) {
      if (mysql_field_count(db_) == 0) return Rows{};
      return DbError(sql);
    }
    Rows rows;
    const unsigned int n = mysql_num_fields(res);
    MYSQL_FIELD* fields = mysql_fetch_fields(res);
    for (unsigned int i = 0; i < n; ++i) rows.types.push_back(fields[i].type);
    rows.reserve(mysql_num_rows(res));
    while (MYSQL_ROW row = mysql_fetch_row(res)) {
      unsigned long* lens = mysql_fetch_lengths(res);
      Row r(n);
      for (unsigned int i = 0; i < n; ++i) {
        if (row[i]) r[i] = std::string(row[i], lens[i]);
      }
      rows.push_back(std::move(r));
    }
    mysql_free_result(res);
    return rows;
  }

  MYSQL* db_;
  MySqlOptions options_;
  std::shared_ptr<const TimeZone> zone_;
  const TimeZone utc_ = TimeZone::Utc();
  std::optional<WriteTypes> write_types_;
};

}  // namespace

void InitMariaDbLibrary() {
  mysql_library_init(0, nullptr, nullptr);
}

Result<std::unique_ptr<LegacyStore>> ConnectMariaDb(const MySqlOptions& o) {
  MYSQL* db = mysql_init(nullptr);
  if (!db) return MakeError(ErrorCode::kInternal, "mysql: out of memory");
  unsigned int ct = static_cast<unsigned int>(o.connect_timeout_s);
  unsigned int rt = static_cast<unsigned int>(o.read_timeout_s);
  mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &ct);
  mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &rt);
  mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &rt);
  mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!o.socket.empty()) {
    unsigned int proto = MYSQL_PROTOCOL_SOCKET;
    mysql_options(db, MYSQL_OPT_PROTOCOL, &proto);
  }
  const char* host = o.socket.empty() ? o.host.c_str() : "localhost";
  if (!mysql_real_connect(db, host, o.user.c_str(), o.password.c_str(), o.database.c_str(),
                          static_cast<unsigned int>(o.port),
                          o.socket.empty() ? nullptr : o.socket.c_str(), 0)) {
    std::string where = o.socket.empty() ? o.host + ":" + std::to_string(o.port) : o.socket;
    std::string msg = "mysql " + where + "/" + o.database + ": cannot connect: " + mysql_error(db) +
                      " (" + std::to_string(mysql_errno(db)) + ")";
    mysql_close(db);
    return MakeError(ErrorCode::kUnavailable, msg);
  }
  const char* setup = "SET time_zone = '+00:00'";
  if (mysql_query(db, setup) != 0) {
    std::string msg = std::string("mysql: session setup failed: ") + mysql_error(db);
    mysql_close(db);
    return MakeError(ErrorCode::kInternal, msg);
  }
  return std::unique_ptr<LegacyStore>(new MariaDbLegacyStore(db, o));
}

}  // namespace ficus::migrator
