#include "domain/cdc/binlog_stream.h"

#include <algorithm>
#include <cctype>

namespace ficus::migrator::cdc {

namespace {

std::string Upper(std::string_view s, std::size_t max) {
  std::string out;
  for (char c : s.substr(0, max))
    out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) || s.back() == ';')) {
    s.remove_suffix(1);
  }
  return std::string(s);
}

bool MentionsTable(const std::string& statement, const std::string& table) {
  std::string lower = statement;
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string t = table;
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower.find(t) != std::string::npos;
}

}  // namespace

BinlogStream::BinlogStream(ProfileTables tables, bool checksum)
    : tables_(std::move(tables)), checksum_(checksum) {}

std::string BinlogStream::Where() const {
  std::string w =
      "at " + (file_.empty() ? std::string("?") : file_) + ":" + std::to_string(log_pos_);
  if (open_) w += ", GTID " + open_->gtid.ToString();
  return w;
}

tl::unexpected<Error> BinlogStream::Fail(const Error& e) const {
  return tl::unexpected(Error(e.code, e.message + " (" + Where() + ")"));
}

Result<std::optional<Transaction>> BinlogStream::Feed(std::span<const std::uint8_t> bytes) {
  auto ev = DecodeEvent(bytes, checksum_);
  if (!ev) return Fail(ev.error());
  ++counters_.events;
  if (ev->header.log_pos != 0) log_pos_ = ev->header.log_pos;
  if (ev->header.timestamp != 0) last_event_time_ = ev->header.timestamp;
  std::optional<Transaction> done;
  auto fail_here = [&](const std::string& m) {
    return Fail(Error(ErrorCode::kInvalidArgument, m));
  };
  if (const auto* fd = std::get_if<FormatDescription>(&ev->body)) {
    checksum_ = fd->checksum;
  } else if (const auto* rot = std::get_if<RotateEventBody>(&ev->body)) {
    file_ = rot->file;
    log_pos_ = static_cast<std::uint32_t>(rot->position);
  } else if (std::holds_alternative<HeartbeatBody>(ev->body)) {
    ++counters_.heartbeats;
  } else if (const auto* g = std::get_if<GtidEventBody>(&ev->body)) {
    if (open_) return fail_here("GTID " + g->gtid.ToString() + " began inside an open transaction");
    open_.emplace();
    open_->gtid = g->gtid;
    open_->event_time = ev->header.timestamp;
    open_->ddl = g->standalone();
  } else if (const auto* q = std::get_if<QueryEventBody>(&ev->body)) {
    if (auto s = OnQuery(*ev, *q, done); !s) return Fail(s.error());
  } else if (std::holds_alternative<XidEventBody>(ev->body)) {
    if (!open_) return fail_here("XID outside a transaction");
    done = std::move(open_);
    open_.reset();
  } else if (auto* t = std::get_if<TableMap>(&ev->body)) {
    maps_[t->table_id] = std::move(*t);
  } else if (const auto* rows = std::get_if<RowsEventBody>(&ev->body)) {
    if (auto s = OnRows(*ev, *rows); !s) return Fail(s.error());
  }
  if (done) {
    ++counters_.transactions;
    if (done->ddl) ++counters_.ddl_skipped;
    maps_.clear();  // table ids are only valid within the statement/transaction that mapped them
  }
  return done;
}

Status BinlogStream::OnQuery(const Event& ev, const QueryEventBody& q,
                             std::optional<Transaction>& done) {
  (void)ev;
  const std::string head = Upper(Trim(q.statement), 16);
  if (!open_) return {};  // server-internal statements before the first GTID
  if (open_->ddl) {
    // A standalone group: this query is all of it (DDL, or a statement on a
    // non-transactional table). Skipped; the next TABLE_MAP shows any new columns.
    open_->statement = Trim(q.statement);
    done = std::move(open_);
    open_.reset();
    return {};
  }
  if (head == "BEGIN" || head.rfind("SAVEPOINT", 0) == 0 || head.rfind("ROLLBACK TO", 0) == 0) {
    return {};
  }
  if (head == "COMMIT" || head == "ROLLBACK") {
    done = std::move(open_);
    open_.reset();
    return {};
  }
  if (MentionsTable(q.statement, tables_.attributes) ||
      MentionsTable(q.statement, tables_.profiles)) {
    return MakeError(ErrorCode::kUnsupported,
                     "statement-logged change to a profile table cannot be followed (the server "
                     "must log it with binlog_format=ROW): " +
                         Trim(q.statement).substr(0, 200));
  }
  return {};
}

Status BinlogStream::OnRows(const Event& ev, const RowsEventBody& rows) {
  if (!open_) {
    return MakeError(ErrorCode::kInvalidArgument, "ROWS event outside a transaction");
  }
  auto it = maps_.find(rows.table_id);
  if (it == maps_.end()) {
    return MakeError(
        ErrorCode::kInvalidArgument,
        "ROWS event for table id " + std::to_string(rows.table_id) + " without its TABLE_MAP");
  }
  const TableRole role = RoleOf(it->second, tables_);
  if (role == TableRole::kOther) {
    ++open_->skipped_rows;
    return {};
  }
  auto n = ChangesFromRows(rows, it->second, role, ev.header.timestamp, open_->changes,
                           open_->deletions);
  if (!n) return tl::unexpected(n.error());
  open_->row_events += *n;
  return {};
}

}  // namespace ficus::migrator::cdc
