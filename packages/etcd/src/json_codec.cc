#include "json_codec.h"

#include <array>

namespace ficus::etcd::codec {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int Sextet(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+' || c == '-') return 62;
  if (c == '/' || c == '_') return 63;
  return -1;
}
}  // namespace

std::string Base64Encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
    out += kAlphabet[v & 63];
  }
  if (i < in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) v |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(v >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

Result<std::string> Base64Decode(std::string_view in, std::string_view what) {
  std::string out;
  out.reserve(in.size() / 4 * 3);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    if (c == '=') break;
    const int s = Sextet(c);
    if (s < 0) return MakeError(ErrorCode::kInternal, std::string(what) + ": not base64");
    acc = (acc << 6) | uint32_t(s);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += char((acc >> bits) & 0xff);
    }
  }
  return out;
}

int64_t Int(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return 0;
  if (v->is_string()) {
    try {
      return std::stoll(std::string(v->get_string()));
    } catch (...) {
      return 0;
    }
  }
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64()) return static_cast<int64_t>(v->get_uint64());
  return 0;
}

Result<std::string> Bytes(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::string();
  return Base64Decode(v->get_string(), key);
}

Result<KeyValue> ParseKv(const boost::json::object& o) {
  KeyValue kv;
  auto k = Bytes(o, "key");
  if (!k) return tl::unexpected(k.error());
  auto v = Bytes(o, "value");
  if (!v) return tl::unexpected(v.error());
  kv.key = std::move(*k);
  kv.value = std::move(*v);
  kv.create_revision = Int(o, "create_revision");
  kv.mod_revision = Int(o, "mod_revision");
  kv.version = Int(o, "version");
  kv.lease = Int(o, "lease");
  return kv;
}

int64_t HeaderRevision(const boost::json::object& o) {
  const auto* h = o.if_contains("header");
  return h && h->is_object() ? Int(h->get_object(), "revision") : 0;
}

}  // namespace ficus::etcd::codec
