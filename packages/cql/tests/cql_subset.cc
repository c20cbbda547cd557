#include "cql_subset.h"

#include <algorithm>
#include <cctype>

#include "ficus/cql/frame.h"

namespace ficus::cql::testing {

bool CqlType::MultiCell() const {
  return !frozen && (id == type_id::kMap || id == type_id::kSet || id == type_id::kList);
}

const CqlType* TableDef::Type(std::string_view column) const {
  for (const auto& [name, type] : columns) {
    if (name == column) return &type;
  }
  return nullptr;
}

bool TableDef::IsKey(std::string_view column) const {
  return std::find(partition_key.begin(), partition_key.end(), column) != partition_key.end() ||
         std::find(clustering.begin(), clustering.end(), column) != clustering.end();
}

namespace {

struct Token {
  enum class Kind : std::uint8_t { kIdent, kNumber, kString, kSymbol, kEnd };
  Kind kind = Kind::kEnd;
  std::string text;  // identifiers lower-cased (unquoted CQL names are case-insensitive)
};

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if ((c == '-' && i + 1 < s.size() && s[i + 1] == '-') ||
               (c == '/' && i + 1 < s.size() && s[i + 1] == '/')) {
      while (i < s.size() && s[i] != '\n') ++i;
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      std::size_t j = i;
      while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_')) ++j;
      std::string t(s.substr(i, j - i));
      std::transform(t.begin(), t.end(), t.begin(),
                     [](unsigned char ch) { return static_cast<char>(std::tolower(ch)); });
      out.push_back({Token::Kind::kIdent, std::move(t)});
      i = j;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      std::size_t j = i;
      while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
      out.push_back({Token::Kind::kNumber, std::string(s.substr(i, j - i))});
      i = j;
    } else if (c == '\'') {
      std::string t;
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= s.size())
          return MakeError(ErrorCode::kInvalidArgument, "cql subset: unterminated string");
        if (s[j] == '\'') {
          if (j + 1 < s.size() && s[j + 1] == '\'') {
            t += '\'';
            ++j;
            continue;
          }
          break;
        }
        t += s[j];
      }
      out.push_back({Token::Kind::kString, std::move(t)});
      i = j + 1;
    } else if (std::string_view("(),.?=+-<>;{}:*").find(c) != std::string_view::npos) {
      out.push_back({Token::Kind::kSymbol, std::string(1, c)});
      ++i;
    } else {
      return MakeError(ErrorCode::kInvalidArgument,
                       std::string("cql subset: unexpected character '") + c + "'");
    }
  }
  out.push_back({Token::Kind::kEnd, ""});
  return out;
}

class Parser {
 public:
  explicit Parser(std::vector<Token> t) : toks_(std::move(t)) {}

  Result<ParsedCql> Statement() {
    if (Accept("create")) {
      if (Accept("keyspace")) return CreateKeyspace();
      if (Accept("table")) return CreateTable();
      return Fail("CREATE KEYSPACE or CREATE TABLE");
    }
    if (Accept("drop")) {
      if (!Accept("keyspace")) return Fail("DROP KEYSPACE");
      ParsedCql p;
      p.kind = CqlKind::kDropKeyspace;
      if (Accept("if") && !Accept("exists")) return Fail("IF EXISTS");
      if (!Name(p.keyspace)) return Fail("a keyspace name");
      return End(std::move(p));
    }
    if (Accept("insert")) return Insert();
    if (Accept("update")) return Update();
    if (Accept("select")) return Select();
    return Fail("CREATE, DROP, INSERT, UPDATE or SELECT");
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  bool Accept(std::string_view text) {
    const Token& t = Peek();
    if (t.kind != Token::Kind::kEnd && t.text == text && t.kind != Token::Kind::kString) {
      ++pos_;
      return true;
    }
    return false;
  }
  bool Name(std::string& out) {
    if (Peek().kind != Token::Kind::kIdent) return false;
    out = toks_[pos_++].text;
    return true;
  }
  tl::unexpected<Error> Fail(std::string_view expected) const {
    return MakeError(ErrorCode::kInvalidArgument,
                     "cql subset: expected " + std::string(expected) + " at '" +
                         (Peek().kind == Token::Kind::kEnd ? "<end>" : Peek().text) + "'");
  }
  Result<ParsedCql> End(ParsedCql p) {
    Accept(";");
    if (Peek().kind != Token::Kind::kEnd) return Fail("the end of the statement");
    return p;
  }
  bool QualifiedName(ParsedCql& p) {
    if (!Name(p.keyspace) || !Accept(".") || !Name(p.table)) return false;
    return true;
  }
  std::size_t NewMarker(MarkerRole role, std::string column = "") {
    markers_.push_back({role, std::move(column)});
    return markers_.size() - 1;
  }
  bool IfNotExists() {
    if (!Accept("if")) return true;
    return Accept("not") && Accept("exists");
  }

  Result<ParsedCql> CreateKeyspace() {
    ParsedCql p;
    p.kind = CqlKind::kCreateKeyspace;
    if (!IfNotExists()) return Fail("IF NOT EXISTS");
    if (!Name(p.keyspace)) return Fail("a keyspace name");
    if (!Accept("with")) return Fail("WITH");
    while (Peek().kind != Token::Kind::kEnd && Peek().text != ";") ++pos_;  // replication etc.
    return End(std::move(p));
  }

  Result<CqlType> Type() {
    std::string name;
    if (!Name(name)) return Fail("a type");
    CqlType t;
    if (name == "frozen") {
      if (!Accept("<")) return Fail("'<'");
      auto inner = Type();
      if (!inner) return inner;
      if (!Accept(">")) return Fail("'>'");
      inner->frozen = true;
      return inner;
    }
    static const std::pair<std::string_view, std::uint16_t> kSimple[] = {
        {"text", type_id::kVarchar},
        {"varchar", type_id::kVarchar},
        {"ascii", type_id::kAscii},
        {"bigint", type_id::kBigint},
        {"int", type_id::kInt},
        {"boolean", type_id::kBoolean},
        {"uuid", type_id::kUuid},
        {"timeuuid", type_id::kTimeuuid},
        {"timestamp", type_id::kTimestamp},
        {"blob", type_id::kBlob}};
    for (const auto& [n, id] : kSimple) {
      if (name == n) {
        t.id = id;
        return t;
      }
    }
    std::size_t arity = 0;
    if (name == "map") {
      t.id = type_id::kMap;
      arity = 2;
    } else if (name == "set") {
      t.id = type_id::kSet;
      arity = 1;
    } else if (name == "list") {
      t.id = type_id::kList;
      arity = 1;
    } else {
      --pos_;
      return Fail("a supported type");
    }
    if (!Accept("<")) return Fail("'<'");
    for (std::size_t i = 0; i < arity; ++i) {
      if (i > 0 && !Accept(",")) return Fail("','");
      auto e = Type();
      if (!e) return e;
      if (e->MultiCell()) return Fail("a frozen nested collection");
      t.params.push_back(std::move(*e));
    }
    if (!Accept(">")) return Fail("'>'");
    return t;
  }

  Result<ParsedCql> CreateTable() {
    ParsedCql p;
    p.kind = CqlKind::kCreateTable;
    if (!IfNotExists()) return Fail("IF NOT EXISTS");
    if (!QualifiedName(p)) return Fail("keyspace.table");
    TableDef& def = p.table_def;
    def.keyspace = p.keyspace;
    def.name = p.table;
    if (!Accept("(")) return Fail("'('");
    do {
      if (Accept("primary")) {
        if (!Accept("key") || !Accept("(")) return Fail("PRIMARY KEY (");
        if (Accept("(")) {
          do {
            std::string c;
            if (!Name(c)) return Fail("a partition key column");
            def.partition_key.push_back(c);
          } while (Accept(","));
          if (!Accept(")")) return Fail("')'");
        } else {
          std::string c;
          if (!Name(c)) return Fail("a partition key column");
          def.partition_key.push_back(c);
        }
        while (Accept(",")) {
          std::string c;
          if (!Name(c)) return Fail("a clustering column");
          def.clustering.push_back(c);
          def.clustering_desc.push_back(false);
        }
        if (!Accept(")")) return Fail("')'");
        continue;
      }
      std::string col;
      if (!Name(col)) return Fail("a column name");
      auto type = Type();
      if (!type) return tl::unexpected(type.error());
      def.columns.emplace_back(col, std::move(*type));
      if (Accept("primary")) {
        if (!Accept("key")) return Fail("KEY");
        def.partition_key = {col};
      }
    } while (Accept(","));
    if (!Accept(")")) return Fail("')' closing the column list");
    if (def.partition_key.empty()) return Fail("a PRIMARY KEY");
    for (const auto& k : def.partition_key) {
      if (!def.Type(k)) return Fail("key column '" + k + "' to be declared");
    }
    for (const auto& k : def.clustering) {
      if (!def.Type(k)) return Fail("key column '" + k + "' to be declared");
    }
    if (Accept("with")) {
      do {
        if (Accept("clustering")) {
          if (!Accept("order") || !Accept("by") || !Accept("(")) return Fail("ORDER BY (");
          do {
            std::string c;
            if (!Name(c)) return Fail("a clustering column");
            auto it = std::find(def.clustering.begin(), def.clustering.end(), c);
            if (it == def.clustering.end()) return Fail("a clustering column");
            bool desc = Accept("desc");
            if (!desc) Accept("asc");
            def.clustering_desc[static_cast<std::size_t>(it - def.clustering.begin())] = desc;
          } while (Accept(","));
          if (!Accept(")")) return Fail("')'");
          continue;
        }
        std::string opt;
        if (!Name(opt) || !Accept("=")) return Fail("a table option");
        if (opt == "default_time_to_live") {
          if (Peek().kind != Token::Kind::kNumber) return Fail("a number of seconds");
          def.default_ttl_s = std::stoi(toks_[pos_++].text);
          continue;
        }
        int depth = 0;  // skip the option's value (a string, a number or a {map})
        while (Peek().kind != Token::Kind::kEnd) {
          if (Peek().text == "{") ++depth;
          if (Peek().text == "}") --depth;
          if (depth == 0 && Peek().kind != Token::Kind::kString &&
              (Peek().text == "and" || Peek().text == ";")) {
            break;
          }
          ++pos_;
        }
      } while (Accept("and"));
    }
    return End(std::move(p));
  }

  // USING TIMESTAMP ? | TTL ? [AND ...]
  Result<bool> Using() {
    if (!Accept("using")) return true;
    do {
      if (Accept("timestamp")) {
        if (!Accept("?")) return Fail("'?' (bind markers only)");
        pending_.timestamp_marker = NewMarker(MarkerRole::kTimestamp);
      } else if (Accept("ttl")) {
        if (!Accept("?")) return Fail("'?' (bind markers only)");
        pending_.ttl_marker = NewMarker(MarkerRole::kTtl);
      } else {
        return Fail("TIMESTAMP or TTL");
      }
    } while (Accept("and"));
    return true;
  }

  Result<bool> Where(ParsedCql& p) {
    if (!Accept("where")) return Fail("WHERE");
    do {
      std::string c;
      if (!Name(c) || !Accept("=")) return Fail("column = ?");
      if (!Accept("?")) return Fail("'?' (bind markers only)");
      p.where.emplace_back(c, NewMarker(MarkerRole::kColumn, c));
    } while (Accept("and"));
    return true;
  }

  Result<ParsedCql> Finish(ParsedCql p) {
    p.timestamp_marker = pending_.timestamp_marker;
    p.ttl_marker = pending_.ttl_marker;
    p.markers = std::move(markers_);
    return End(std::move(p));
  }

  Result<ParsedCql> Insert() {
    ParsedCql p;
    p.kind = CqlKind::kInsert;
    if (!Accept("into") || !QualifiedName(p)) return Fail("INTO keyspace.table");
    if (!Accept("(")) return Fail("'('");
    std::vector<std::string> cols;
    do {
      std::string c;
      if (!Name(c)) return Fail("a column name");
      cols.push_back(c);
    } while (Accept(","));
    if (!Accept(")") || !Accept("values") || !Accept("(")) return Fail(") VALUES (");
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i > 0 && !Accept(",")) return Fail("','");
      if (!Accept("?")) return Fail("'?' (bind markers only)");
      p.assignments.push_back(
          {cols[i], Assignment::Op::kSet, NewMarker(MarkerRole::kColumn, cols[i])});
    }
    if (!Accept(")")) return Fail("')' (as many values as columns)");
    auto u = Using();
    if (!u) return tl::unexpected(u.error());
    return Finish(std::move(p));
  }

  Result<ParsedCql> Update() {
    ParsedCql p;
    p.kind = CqlKind::kUpdate;
    if (!QualifiedName(p)) return Fail("keyspace.table");
    auto u = Using();
    if (!u) return tl::unexpected(u.error());
    if (!Accept("set")) return Fail("SET");
    do {
      std::string c;
      if (!Name(c) || !Accept("=")) return Fail("column = ...");
      if (Accept("?")) {
        p.assignments.push_back({c, Assignment::Op::kSet, NewMarker(MarkerRole::kColumn, c)});
        continue;
      }
      std::string same;
      if (!Name(same) || same != c) return Fail("'" + c + " + ?' or '" + c + " - ?'");
      Assignment::Op op;
      MarkerRole role;
      if (Accept("+")) {
        op = Assignment::Op::kAdd;
        role = MarkerRole::kAdd;
      } else if (Accept("-")) {
        op = Assignment::Op::kRemove;
        role = MarkerRole::kRemove;
      } else {
        return Fail("'+' or '-'");
      }
      if (!Accept("?")) return Fail("'?' (bind markers only)");
      p.assignments.push_back({c, op, NewMarker(role, c)});
    } while (Accept(","));
    auto w = Where(p);
    if (!w) return tl::unexpected(w.error());
    return Finish(std::move(p));
  }

  Result<ParsedCql> Select() {
    ParsedCql p;
    p.kind = CqlKind::kSelect;
    do {
      std::string c;
      if (!Name(c)) return Fail("a column name (no functions or '*')");
      p.select.push_back(c);
    } while (Accept(","));
    if (!Accept("from") || !QualifiedName(p)) return Fail("FROM keyspace.table");
    auto w = Where(p);
    if (!w) return tl::unexpected(w.error());
    if (Accept("limit")) {
      if (!Accept("?")) return Fail("'?' (bind markers only)");
      p.limit_marker = NewMarker(MarkerRole::kLimit);
    }
    return Finish(std::move(p));
  }

  std::vector<Token> toks_;
  std::size_t pos_ = 0;
  std::vector<Marker> markers_;
  ParsedCql pending_;  // USING markers, collected before the statement's end
};

}  // namespace

Result<ParsedCql> ParseCql(std::string_view text) {
  auto toks = Tokenize(text);
  if (!toks) return tl::unexpected(toks.error());
  Parser p(std::move(*toks));
  return p.Statement();
}

}  // namespace ficus::cql::testing
