#include "cql_table_engine.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "cql_column_values.h"
#include "ficus/cql/murmur3.h"
#include "ficus/cql/types.h"

namespace ficus::cql::testing {
namespace {

tl::unexpected<Error> Invalid(std::string message) {
  return MakeError(ErrorCode::kInvalidArgument, std::move(message));
}

// A bound bigint (8 bytes) or int (4 bytes, sign-extended).
std::int64_t ReadSigned(const Bytes& b) {
  std::uint64_t v = 0;
  for (auto c : b) v = (v << 8) | c;
  if (b.size() == 4) return static_cast<std::int32_t>(static_cast<std::uint32_t>(v));
  return static_cast<std::int64_t>(v);
}

struct BytesLess {
  bool operator()(const Bytes& a, const Bytes& b) const { return CompareUnsigned(a, b) < 0; }
};

// A non-frozen collection: its elements' cells and the newest deletion of
// the whole collection (elements at or below it are shadowed).
struct ComplexCell {
  std::int64_t deleted_at = std::numeric_limits<std::int64_t>::min();
  std::map<Bytes, StoredCell, BytesLess> elements;
};

struct StoredRow {
  std::optional<StoredCell> marker;  // INSERT's row liveness (value: empty bytes)
  std::map<std::string, StoredCell> cells;
  std::map<std::string, ComplexCell> complex;
};

struct ClusteringLess {
  const TableDef* def = nullptr;
  bool operator()(const std::vector<Bytes>& a, const std::vector<Bytes>& b) const {
    for (std::size_t i = 0; i < a.size() && i < b.size(); ++i) {
      int c = CompareValues(*def->Type(def->clustering[i]), a[i], b[i]);
      if (def->clustering_desc[i]) c = -c;
      if (c != 0) return c < 0;
    }
    return a.size() < b.size();
  }
};

struct Partition {
  std::vector<Bytes> key;  // partition key values
  std::map<std::vector<Bytes>, StoredRow, ClusteringLess> rows;
};

struct Table {
  TableDef def;
  std::map<Bytes, Partition, BytesLess> partitions;
};

// One write, validated and ready to apply.
struct Mutation {
  Table* table = nullptr;
  Bytes partition;
  std::vector<Bytes> pk_values, ck_values;
  std::optional<StoredCell> marker;
  std::vector<std::pair<std::string, StoredCell>> cells;
  struct Collection {
    std::string column;
    std::optional<std::int64_t> delete_at;
    std::vector<std::pair<Bytes, StoredCell>> elements;
  };
  std::vector<Collection> collections;
};

struct Prepared {
  std::string query;
  ParsedCql parsed;
  PreparedResult result;
};

void Merge(StoredCell& slot, bool present, StoredCell incoming, std::int64_t now_s) {
  if (!present || CellWins(incoming, slot, now_s)) slot = std::move(incoming);
}

}  // namespace

struct CqlTableEngine::Impl {
  std::atomic<std::int64_t> clock_offset_us{0};
  std::mutex mu;
  std::map<std::string, bool> keyspaces;
  std::map<std::string, std::unique_ptr<Table>> tables;  // "ks.t"
  std::map<Bytes, std::shared_ptr<const Prepared>> prepared;

  std::int64_t NowUs() const {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count() +
           clock_offset_us.load();
  }

  Table* FindTable(const ParsedCql& p) {
    auto it = tables.find(p.keyspace + "." + p.table);
    return it == tables.end() ? nullptr : it->second.get();
  }

  // PREPARE: bind metadata from the table, as a node answers.
  Result<std::shared_ptr<const Prepared>> Prepare(std::string_view query) {
    auto parsed = ParseCql(query);
    if (!parsed) return tl::unexpected(parsed.error());
    auto out = std::make_shared<Prepared>();
    out->query = std::string(query);
    out->result.id = EncodeBigint(Murmur3Hash(AsBytes(query)));
    out->result.flags = kMetaGlobalTableSpec;
    out->result.result_metadata.flags = kMetaNoMetadata;
    const ParsedCql& p = *parsed;
    if (p.kind == CqlKind::kInsert || p.kind == CqlKind::kUpdate || p.kind == CqlKind::kSelect) {
      Table* t = FindTable(p);
      if (!t) return Invalid(fmt::format("unconfigured table {}.{}", p.keyspace, p.table));
      const TableDef& def = t->def;
      auto spec = [&](std::string name, ColumnType type) {
        return ColumnSpec{def.keyspace, def.name, std::move(name), std::move(type)};
      };
      for (const Marker& m : p.markers) {
        const CqlType* ct = m.column.empty() ? nullptr : def.Type(m.column);
        if (!m.column.empty() && !ct) return Invalid("Undefined column name " + m.column);
        switch (m.role) {
          case MarkerRole::kColumn:
          case MarkerRole::kAdd:
            if (m.role == MarkerRole::kAdd && !ct->MultiCell()) {
              return Invalid("Invalid operation (" + m.column + " + ?) for non-collection column");
            }
            out->result.bind_columns.push_back(spec(m.column, WireType(*ct)));
            break;
          case MarkerRole::kRemove: {
            if (!ct->MultiCell() || ct->id == type_id::kList) {
              return Invalid("Invalid operation (" + m.column + " - ?) for this column");
            }
            ColumnType keys{type_id::kSet, "", {WireType(ct->params[0])}};
            out->result.bind_columns.push_back(spec(m.column, keys));
            break;
          }
          case MarkerRole::kTimestamp:
            out->result.bind_columns.push_back(spec("[timestamp]", {type_id::kBigint}));
            break;
          case MarkerRole::kTtl:
            out->result.bind_columns.push_back(spec("[ttl]", {type_id::kInt}));
            break;
          case MarkerRole::kLimit:
            out->result.bind_columns.push_back(spec("[limit]", {type_id::kInt}));
            break;
        }
      }
      for (const auto& a : p.assignments) {
        if (p.kind == CqlKind::kUpdate && def.IsKey(a.column)) {
          return Invalid("PRIMARY KEY part " + a.column + " found in SET part");
        }
      }
      // Every partition key column bound, in key order (the routing key).
      for (const auto& k : def.partition_key) {
        std::optional<std::size_t> idx;
        for (const auto& [col, m] : p.where) {
          if (col == k) idx = m;
        }
        for (const auto& a : p.assignments) {
          if (p.kind == CqlKind::kInsert && a.column == k) idx = a.marker;
        }
        if (!idx) return Invalid("Some partition key parts are missing: " + k);
        out->result.pk_indexes.push_back(static_cast<std::uint16_t>(*idx));
      }
      for (const auto& [col, m] : p.where) {
        if (std::find(def.partition_key.begin(), def.partition_key.end(), col) ==
                def.partition_key.end() &&
            (p.kind == CqlKind::kSelect || std::find(def.clustering.begin(), def.clustering.end(),
                                                     col) == def.clustering.end())) {
          return Invalid("WHERE on " + col + " is outside the engine's subset (full keys only)");
        }
      }
      if (p.kind != CqlKind::kSelect) {
        for (const auto& c : def.clustering) {
          bool bound = false;
          for (const auto& [col, m] : p.where) bound |= col == c;
          for (const auto& a : p.assignments) bound |= a.column == c;
          if (!bound) return Invalid("Missing mandatory PRIMARY KEY part " + c);
        }
      } else {
        out->result.result_metadata.flags = kMetaGlobalTableSpec;
        for (const auto& c : p.select) {
          const CqlType* ct = def.Type(c);
          if (!ct) return Invalid("Undefined column name " + c);
          out->result.result_metadata.columns.push_back(spec(c, WireType(*ct)));
        }
        out->result.result_metadata.column_count =
            static_cast<std::int32_t>(out->result.result_metadata.columns.size());
      }
    }
    out->parsed = std::move(*parsed);
    return std::shared_ptr<const Prepared>(std::move(out));
  }

  Result<ResultBody> Ddl(const ParsedCql& p) {
    switch (p.kind) {
      case CqlKind::kCreateKeyspace:
        keyspaces[p.keyspace] = true;
        return ResultBody{VoidResult{}};
      case CqlKind::kDropKeyspace:
        keyspaces.erase(p.keyspace);
        std::erase_if(tables,
                      [&](const auto& kv) { return kv.second->def.keyspace == p.keyspace; });
        return ResultBody{VoidResult{}};
      case CqlKind::kCreateTable: {
        if (!keyspaces.count(p.keyspace))
          return Invalid("Keyspace " + p.keyspace + " does not exist");
        const std::string name = p.keyspace + "." + p.table;
        if (!tables.count(name)) {
          auto t = std::make_unique<Table>();
          t->def = p.table_def;
          tables.emplace(name, std::move(t));
        }
        return ResultBody{VoidResult{}};
      }
      default:
        return Invalid("not DDL");
    }
  }

  // The bound value of marker `i`, checked against its bind column.
  Result<const Value*> Bound(const Prepared& st, const std::vector<Value>& values, std::size_t i) {
    if (i >= values.size()) return Invalid(fmt::format("no value for bind marker {}", i));
    const Value& v = values[i];
    if (v.kind == Value::Kind::kSet) {
      const ColumnSpec& spec = st.result.bind_columns[i];
      const TableDef* def = &tables.at(st.parsed.keyspace + "." + st.parsed.table)->def;
      CqlType type;
      if (const CqlType* ct = def->Type(spec.name);
          ct && st.parsed.markers[i].role != MarkerRole::kRemove) {
        type = *ct;
      } else if (st.parsed.markers[i].role == MarkerRole::kRemove) {
        type = CqlType{type_id::kSet, {def->Type(spec.name)->params[0]}, true};
      } else {
        type = CqlType{spec.type.id, {}, false};
      }
      auto ok = ValidateValue(type, v.bytes, "Invalid value for " + spec.name);
      if (!ok) return tl::unexpected(ok.error());
    }
    return &v;
  }

  Result<Mutation> PlanWrite(const Prepared& st, const std::vector<Value>& values,
                             std::optional<std::int64_t> default_ts) {
    const ParsedCql& p = st.parsed;
    Table* t = FindTable(p);
    if (!t) return Invalid(fmt::format("unconfigured table {}.{}", p.keyspace, p.table));
    const TableDef& def = t->def;
    if (values.size() != p.markers.size()) {
      return Invalid(fmt::format("There were {} markers(?) in CQL but {} bound variables",
                                 p.markers.size(), values.size()));
    }
    const std::int64_t now_us = NowUs();
    const std::int64_t now_s = now_us / 1000000;
    std::int64_t ts = default_ts.value_or(now_us);
    if (p.timestamp_marker) {
      auto v = Bound(st, values, *p.timestamp_marker);
      if (!v) return tl::unexpected(v.error());
      if ((*v)->kind == Value::Kind::kNull) return Invalid("Invalid null value of timestamp");
      if ((*v)->kind == Value::Kind::kSet) ts = ReadSigned((*v)->bytes);
    }
    std::int32_t ttl = def.default_ttl_s;
    if (p.ttl_marker) {
      auto v = Bound(st, values, *p.ttl_marker);
      if (!v) return tl::unexpected(v.error());
      if ((*v)->kind == Value::Kind::kSet) {
        ttl = static_cast<std::int32_t>(ReadSigned((*v)->bytes));
        if (ttl < 0) return Invalid("A TTL must be greater or equal to 0");
      }
    }
    auto live = [&](Bytes value) {
      StoredCell c{ts, std::move(value), ttl, ttl ? now_s + ttl : 0, 0};
      return c;
    };
    auto tombstone = [&] { return StoredCell{ts, std::nullopt, 0, 0, now_s}; };

    Mutation m;
    m.table = t;
    std::map<std::string, Bytes> keys;
    auto key_value = [&](const std::string& col, std::size_t marker) -> Status {
      auto v = Bound(st, values, marker);
      if (!v) return tl::unexpected(v.error());
      if ((*v)->kind != Value::Kind::kSet) return Invalid("Invalid null value for key part " + col);
      keys[col] = (*v)->bytes;
      return {};
    };
    for (const auto& [col, marker] : p.where) {
      auto s = key_value(col, marker);
      if (!s) return tl::unexpected(s.error());
    }
    for (const auto& a : p.assignments) {
      if (def.IsKey(a.column)) {
        auto s = key_value(a.column, a.marker);
        if (!s) return tl::unexpected(s.error());
      }
    }
    for (const auto& k : def.partition_key) {
      m.pk_values.push_back(keys.at(k));
      Writer w;
      w.BytesValue(keys.at(k));
      const Bytes& b = w.bytes();
      m.partition.insert(m.partition.end(), b.begin(), b.end());
    }
    for (const auto& c : def.clustering) m.ck_values.push_back(keys.at(c));
    if (p.kind == CqlKind::kInsert) m.marker = live(Bytes{});
    for (const auto& a : p.assignments) {
      if (def.IsKey(a.column)) continue;
      auto bound = Bound(st, values, a.marker);
      if (!bound) return tl::unexpected(bound.error());
      const Value& v = **bound;
      if (v.kind == Value::Kind::kUnset) continue;
      const CqlType& type = *def.Type(a.column);
      if (!type.MultiCell()) {
        m.cells.emplace_back(a.column, v.kind == Value::Kind::kNull ? tombstone() : live(v.bytes));
        continue;
      }
      Mutation::Collection coll{a.column, std::nullopt, {}};
      if (a.op == Assignment::Op::kSet) {
        // Overwrite: the old elements are deleted just before the new ones.
        coll.delete_at = v.kind == Value::Kind::kNull ? ts : ts - 1;
      } else if (v.kind == Value::Kind::kNull) {
        return Invalid("Invalid null value for collection operation on " + a.column);
      }
      if (v.kind == Value::Kind::kSet) {
        CqlType elems = type;
        if (a.op == Assignment::Op::kRemove) elems = CqlType{type_id::kSet, {type.params[0]}, true};
        for (auto& [k, val] : CollectionElements(elems, v.bytes)) {
          coll.elements.emplace_back(
              std::move(k), a.op == Assignment::Op::kRemove ? tombstone() : live(std::move(val)));
        }
      }
      m.collections.push_back(std::move(coll));
    }
    return m;
  }

  void Apply(Mutation m) {
    const std::int64_t now_s = NowUs() / 1000000;
    Partition& part = m.table->partitions[m.partition];
    if (part.rows.empty()) {
      part.key = m.pk_values;
      part.rows =
          std::map<std::vector<Bytes>, StoredRow, ClusteringLess>(ClusteringLess{&m.table->def});
    }
    StoredRow& row = part.rows[m.ck_values];
    if (m.marker) {
      const bool had = row.marker.has_value();
      if (!had) row.marker = StoredCell{};
      Merge(*row.marker, had, std::move(*m.marker), now_s);
    }
    for (auto& [col, cell] : m.cells) {
      auto [it, fresh] = row.cells.try_emplace(col);
      Merge(it->second, !fresh, std::move(cell), now_s);
    }
    for (auto& coll : m.collections) {
      ComplexCell& cc = row.complex[coll.column];
      if (coll.delete_at) cc.deleted_at = std::max(cc.deleted_at, *coll.delete_at);
      for (auto& [k, cell] : coll.elements) {
        auto [it, fresh] = cc.elements.try_emplace(k);
        Merge(it->second, !fresh, std::move(cell), now_s);
      }
    }
  }

  Result<ResultBody> Select(const Prepared& st, const std::vector<Value>& values) {
    const ParsedCql& p = st.parsed;
    Table* t = FindTable(p);
    if (!t) return Invalid(fmt::format("unconfigured table {}.{}", p.keyspace, p.table));
    const TableDef& def = t->def;
    if (values.size() != p.markers.size()) {
      return Invalid(fmt::format("There were {} markers(?) in CQL but {} bound variables",
                                 p.markers.size(), values.size()));
    }
    std::map<std::string, Bytes> keys;
    for (const auto& [col, marker] : p.where) {
      auto v = Bound(st, values, marker);
      if (!v) return tl::unexpected(v.error());
      if ((*v)->kind != Value::Kind::kSet) return Invalid("Invalid null value for " + col);
      keys[col] = (*v)->bytes;
    }
    std::int64_t limit = std::numeric_limits<std::int32_t>::max();
    if (p.limit_marker) {
      auto v = Bound(st, values, *p.limit_marker);
      if (!v) return tl::unexpected(v.error());
      if ((*v)->kind == Value::Kind::kSet) limit = ReadSigned((*v)->bytes);
      if (limit <= 0) return Invalid("LIMIT must be strictly positive");
    }
    Bytes partition;
    for (const auto& k : def.partition_key) {
      Writer w;
      w.BytesValue(keys.at(k));
      partition.insert(partition.end(), w.bytes().begin(), w.bytes().end());
    }
    RowsResult rows;
    rows.metadata = st.result.result_metadata;
    const std::int64_t now_s = NowUs() / 1000000;
    auto pit = t->partitions.find(partition);
    if (pit == t->partitions.end()) return ResultBody{rows};
    for (const auto& [ck, row] : pit->second.rows) {
      if (static_cast<std::int64_t>(rows.rows.size()) >= limit) break;
      bool exists = row.marker && row.marker->Live(now_s);
      for (const auto& [col, cell] : row.cells) exists |= cell.Live(now_s);
      std::map<std::string, std::vector<std::pair<Bytes, Bytes>>> live_elements;
      for (const auto& [col, cc] : row.complex) {
        auto& out = live_elements[col];
        for (const auto& [k, cell] : cc.elements) {
          if (cell.ts > cc.deleted_at && cell.Live(now_s)) out.emplace_back(k, *cell.value);
        }
        exists |= !out.empty();
      }
      if (!exists) continue;
      cql::Row values_out;
      for (const auto& c : p.select) {
        const CqlType& type = *def.Type(c);
        if (auto k = std::find(def.partition_key.begin(), def.partition_key.end(), c);
            k != def.partition_key.end()) {
          values_out.push_back(
              pit->second.key[static_cast<std::size_t>(k - def.partition_key.begin())]);
        } else if (auto k2 = std::find(def.clustering.begin(), def.clustering.end(), c);
                   k2 != def.clustering.end()) {
          values_out.push_back(ck[static_cast<std::size_t>(k2 - def.clustering.begin())]);
        } else if (type.MultiCell()) {
          const auto& elems = live_elements[c];
          values_out.push_back(elems.empty() ? cql::Cell{}
                                             : cql::Cell{EncodeCollection(type, elems)});
        } else {
          auto it = row.cells.find(c);
          values_out.push_back(it != row.cells.end() && it->second.Live(now_s) ? it->second.value
                                                                               : cql::Cell{});
        }
      }
      rows.rows.push_back(std::move(values_out));
    }
    return ResultBody{rows};
  }

  // Under `mu`.
  Result<ResultBody> Run(const Prepared& st, const std::vector<Value>& values,
                         std::optional<std::int64_t> default_ts) {
    switch (st.parsed.kind) {
      case CqlKind::kSelect:
        return Select(st, values);
      case CqlKind::kInsert:
      case CqlKind::kUpdate: {
        auto m = PlanWrite(st, values, default_ts);
        if (!m) return tl::unexpected(m.error());
        Apply(std::move(*m));
        return ResultBody{VoidResult{}};
      }
      default:
        return Ddl(st.parsed);
    }
  }

  Result<std::shared_ptr<const Prepared>> PrepareLocked(std::string_view query) {
    auto p = Prepare(query);
    if (p) prepared[(*p)->result.id] = *p;
    return p;
  }
};

CqlTableEngine::CqlTableEngine() : impl_(std::make_unique<Impl>()) {}
CqlTableEngine::~CqlTableEngine() = default;

Result<ResultBody> CqlTableEngine::Execute(std::string_view query, const std::vector<Value>& values,
                                           std::optional<std::int64_t> default_ts_us) {
  std::lock_guard lock(impl_->mu);
  auto p = impl_->Prepare(query);
  if (!p) return tl::unexpected(p.error());
  return impl_->Run(**p, values, default_ts_us);
}

void CqlTableEngine::AdvanceClock(std::chrono::seconds by) {
  impl_->clock_offset_us += std::chrono::duration_cast<std::chrono::microseconds>(by).count();
}

std::int64_t CqlTableEngine::NowUs() const {
  return impl_->NowUs();
}

PeerHandler CqlTableEngine::Handler() {
  Impl* impl = impl_.get();
  return [impl](const PeerRequest& r) -> std::optional<PeerReply> {
    auto answer = [](Response resp) {
      PeerReply reply;
      reply.response = std::move(resp);
      return std::optional<PeerReply>(std::move(reply));
    };
    // Syntax_error for what the subset cannot parse, Invalid otherwise.
    auto error = [&](const Error& e) {
      const bool syntax = e.message.rfind("cql subset:", 0) == 0;
      return answer(ErrorResponse{syntax ? 0x2000 : 0x2200, e.message});
    };
    auto unprepared = [&](const Bytes& id) {
      ErrorResponse err{0x2500, "Prepared query with ID not found"};
      err.unprepared_id = id;
      return answer(err);
    };
    std::lock_guard lock(impl->mu);
    if (auto* q = std::get_if<PrepareRequest>(&r.request)) {
      auto p = impl->PrepareLocked(q->query);
      if (!p) return error(p.error());
      return answer(ResultBody{(*p)->result});
    }
    if (auto* q = std::get_if<QueryRequest>(&r.request)) {
      if (q->query.find("system.") != std::string::npos) return std::nullopt;  // peer's defaults
      auto p = impl->Prepare(q->query);
      if (!p) return error(p.error());
      auto res =
          impl->Run(**p, q->params.values.value_or(std::vector<Value>{}), q->params.timestamp);
      if (!res) return error(res.error());
      return answer(std::move(*res));
    }
    if (auto* e = std::get_if<ExecuteRequest>(&r.request)) {
      auto it = impl->prepared.find(e->id);
      if (it == impl->prepared.end()) return unprepared(e->id);
      auto res = impl->Run(*it->second, e->params.values.value_or(std::vector<Value>{}),
                           e->params.timestamp);
      if (!res) return error(res.error());
      return answer(std::move(*res));
    }
    if (auto* b = std::get_if<BatchRequest>(&r.request)) {
      if (b->type == BatchType::kCounter)
        return error(Error(ErrorCode::kInvalidArgument, "counter batches are not modelled"));
      // Validate every statement first, then apply them all: a batch is
      // applied whole or not at all.
      std::vector<Mutation> plan;
      for (const auto& s : b->statements) {
        std::shared_ptr<const Prepared> st;
        if (s.prepared) {
          auto it = impl->prepared.find(s.id);
          if (it == impl->prepared.end()) return unprepared(s.id);
          st = it->second;
        } else {
          auto p = impl->Prepare(s.query);
          if (!p) return error(p.error());
          st = *p;
        }
        if (st->parsed.kind != CqlKind::kInsert && st->parsed.kind != CqlKind::kUpdate) {
          return error(Error(ErrorCode::kInvalidArgument,
                             "Invalid statement in batch: only UPDATE, INSERT and DELETE "
                             "statements are allowed."));
        }
        auto m = impl->PlanWrite(*st, s.values, b->timestamp);
        if (!m) return error(m.error());
        plan.push_back(std::move(*m));
      }
      for (auto& m : plan) impl->Apply(std::move(m));
      return answer(ResultBody{VoidResult{}});
    }
    return std::nullopt;
  };
}

}  // namespace ficus::cql::testing
