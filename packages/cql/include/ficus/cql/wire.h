// Typed reader and writer for the CQL native protocol v4 notations
// ([byte], [short], [int], [long], [string], [long string], [bytes], [value],
// [short bytes], [string list], [string map], [string multimap], [bytes map],
// [uuid], [inet], [consistency]); see native_protocol_v4.spec section 3.
//
// Contract:
//  - Reader never reads past its buffer. Every failure is an InvalidArgument
//    Error whose message names what was being read, the byte offset in the
//    buffer, and how many bytes were needed and available, e.g.
//    "cql: truncated [string] 'keyspace' at offset 12: need 7 bytes, have 3".
//  - A negative length where the notation forbids one is an error naming the
//    length and offset.
//  - Writer appends big-endian bytes to a growable buffer; it cannot fail
//    except for lengths that do not fit their prefix, which is a caller bug
//    (asserted).
//  - Neither does I/O; both are cheap to construct; not thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ficus/result.h"

namespace ficus::cql {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
inline Bytes ToBytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

enum class Consistency : std::uint16_t {
  kAny = 0x0000,
  kOne = 0x0001,
  kTwo = 0x0002,
  kThree = 0x0003,
  kQuorum = 0x0004,
  kAll = 0x0005,
  kLocalQuorum = 0x0006,
  kEachQuorum = 0x0007,
  kSerial = 0x0008,
  kLocalSerial = 0x0009,
  kLocalOne = 0x000A,
};

std::string_view ConsistencyName(Consistency c);
// Parses "LOCAL_QUORUM", "quorum", ... (case-insensitive).
Result<Consistency> ParseConsistency(std::string_view name);

struct Uuid {
  std::array<std::uint8_t, 16> bytes{};
  friend bool operator==(const Uuid&, const Uuid&) = default;
  friend auto operator<=>(const Uuid&, const Uuid&) = default;
  // Canonical lowercase 8-4-4-4-12 form.
  [[nodiscard]] std::string ToString() const;
  // Accepts the canonical form in any case.
  static Result<Uuid> Parse(std::string_view text);
};

struct Inet {
  Bytes address;  // 4 (IPv4) or 16 (IPv6) bytes
  std::int32_t port = 0;
  friend bool operator==(const Inet&, const Inet&) = default;
};

// A bound [value]: set bytes, null (-1) or not set (-2).
struct Value {
  enum class Kind : std::uint8_t { kSet, kNull, kUnset };
  Kind kind = Kind::kNull;
  Bytes bytes;

  static Value Of(Bytes b) { return Value{Kind::kSet, std::move(b)}; }
  static Value Null() { return Value{Kind::kNull, {}}; }
  static Value Unset() { return Value{Kind::kUnset, {}}; }
  friend bool operator==(const Value&, const Value&) = default;
};

using StringMap = std::map<std::string, std::string>;
using StringMultimap = std::map<std::string, std::vector<std::string>>;
using BytesMap = std::map<std::string, std::optional<Bytes>>;

class Writer {
 public:
  Writer() = default;
  explicit Writer(Bytes initial) : buf_(std::move(initial)) {}

  void Byte(std::uint8_t v) { buf_.push_back(v); }
  void Short(std::uint16_t v);
  void Int(std::int32_t v);
  void Long(std::int64_t v);
  void Raw(ByteView b) { buf_.insert(buf_.end(), b.begin(), b.end()); }
  void String(std::string_view s);
  void LongString(std::string_view s);
  void BytesValue(ByteView b);  // [bytes] with n >= 0
  void NullBytes() { Int(-1); }
  void OptBytes(const std::optional<Bytes>& b);
  void ValueField(const Value& v);  // [value]
  void ShortBytes(ByteView b);
  void StringList(const std::vector<std::string>& l);
  void StringMapField(const StringMap& m);
  void StringMultimapField(const StringMultimap& m);
  void BytesMapField(const BytesMap& m);
  void UuidField(const Uuid& u) { Raw(u.bytes); }
  void InetField(const Inet& i);
  void ConsistencyField(Consistency c) { Short(static_cast<std::uint16_t>(c)); }

  // Overwrites 4 bytes at `offset` (used to patch a frame's length).
  void PatchInt(std::size_t offset, std::int32_t v);
  [[nodiscard]] std::size_t size() const { return buf_.size(); }
  [[nodiscard]] const Bytes& bytes() const& { return buf_; }
  Bytes Take() && { return std::move(buf_); }

 private:
  Bytes buf_;
};

class Reader {
 public:
  // `where` prefixes every error ("RESULT rows", "ERROR body", ...).
  explicit Reader(ByteView data, std::string where = "frame body")
      : data_(data), where_(std::move(where)) {}

  // Each `what` names the field in error messages.
  Result<std::uint8_t> Byte(std::string_view what);
  Result<std::uint16_t> Short(std::string_view what);
  Result<std::int32_t> Int(std::string_view what);
  Result<std::int64_t> Long(std::string_view what);
  Result<ByteView> Raw(std::size_t n, std::string_view what);
  Result<std::string> String(std::string_view what);
  Result<std::string> LongString(std::string_view what);
  // [bytes]: nullopt for a negative length.
  Result<std::optional<Bytes>> BytesField(std::string_view what);
  // [bytes] that must not be null.
  Result<Bytes> NonNullBytes(std::string_view what);
  Result<Value> ValueField(std::string_view what);  // rejects n < -2
  Result<Bytes> ShortBytes(std::string_view what);
  Result<std::vector<std::string>> StringList(std::string_view what);
  Result<StringMap> StringMapField(std::string_view what);
  Result<StringMultimap> StringMultimapField(std::string_view what);
  Result<BytesMap> BytesMapField(std::string_view what);
  Result<Uuid> UuidField(std::string_view what);
  Result<Inet> InetField(std::string_view what);
  Result<Consistency> ConsistencyField(std::string_view what);

  [[nodiscard]] std::size_t offset() const { return pos_; }
  [[nodiscard]] std::size_t remaining() const { return data_.size() - pos_; }
  [[nodiscard]] bool AtEnd() const { return pos_ == data_.size(); }
  // Error for a value that was read but is invalid at `at`.
  [[nodiscard]] Error Invalid(std::size_t at, std::string_view what, std::string_view why) const;

 private:
  Result<ByteView> Take(std::size_t n, std::string_view what, std::size_t field_start);
  Error Truncated(std::string_view what, std::size_t at, std::size_t need) const;

  ByteView data_;
  std::string where_;
  std::size_t pos_ = 0;
};

}  // namespace ficus::cql

// Propagates an error from a Result-returning expression; binds the value.
#define FICUS_CQL_CONCAT_INNER(a, b) a##b
#define FICUS_CQL_CONCAT(a, b) FICUS_CQL_CONCAT_INNER(a, b)
// NOLINTBEGIN(bugprone-macro-parentheses): `tmp` is the name being declared
// and `lhs` may itself be a declaration (`auto x`); neither can be wrapped in
// parentheses.
#define FICUS_CQL_TRY_IMPL(tmp, lhs, expr)                   \
  auto tmp = (expr);                                         \
  if (!tmp) return ::tl::unexpected(std::move(tmp).error()); \
  lhs = std::move(*tmp)
// NOLINTEND(bugprone-macro-parentheses)
#define FICUS_CQL_TRY(lhs, expr) \
  FICUS_CQL_TRY_IMPL(FICUS_CQL_CONCAT(ficus_cql_try_, __LINE__), lhs, expr)
