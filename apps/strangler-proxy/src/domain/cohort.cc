#include "domain/cohort.h"

#include <xxhash.h>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

namespace ficus::proxy {

std::string NormalizeCohortKey(std::string_view key) {
  while (!key.empty() && (key.front() == ' ' || key.front() == '\t')) key.remove_prefix(1);
  while (!key.empty() && (key.back() == ' ' || key.back() == '\t')) key.remove_suffix(1);
  std::string out(key);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

uint64_t CohortHash(std::string_view salt, std::string_view normalized_key) {
  std::string buf;
  buf.reserve(salt.size() + 1 + normalized_key.size());
  buf.append(salt);
  buf.push_back(':');
  buf.append(normalized_key);
  return XXH3_64bits(buf.data(), buf.size());
}

uint32_t CohortBucket(std::string_view salt, std::string_view normalized_key) {
  return static_cast<uint32_t>(CohortHash(salt, normalized_key) % 10000);
}

bool InCanary(uint32_t bucket, uint32_t percent_bp) {
  return bucket < percent_bp;
}

namespace {

int HexVal(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

std::string PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() && HexVal(s[i + 1]) >= 0 && HexVal(s[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexVal(s[i + 1]) * 16 + HexVal(s[i + 2])));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

}  // namespace

std::optional<std::string> QueryParam(std::string_view query, std::string_view name) {
  while (!query.empty()) {
    const auto amp = query.find('&');
    const auto pair = query.substr(0, amp);
    const auto eq = pair.find('=');
    const auto k = pair.substr(0, eq);
    if (PercentDecode(k) == name) {
      return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1));
    }
    if (amp == std::string_view::npos) break;
    query.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

std::optional<std::string> ExtractCohortKey(const Cohort& cohort, const KeyInputs& in) {
  std::optional<boost::json::value> body;  // parsed at most once, only if needed
  bool body_parsed = false;
  for (const auto& src : cohort.key) {
    std::optional<std::string> v;
    switch (src.kind) {
      case KeySource::Kind::kHeader:
        if (in.header) {
          if (auto h = in.header(src.name)) v = std::string(*h);
        }
        break;
      case KeySource::Kind::kQuery:
        v = QueryParam(in.query, src.name);
        break;
      case KeySource::Kind::kJson:
        if (!body_parsed) {
          body_parsed = true;
          boost::json::error_code ec;
          auto parsed = boost::json::parse(in.body, ec);
          if (!ec) body = std::move(parsed);
        }
        if (body && body->is_object()) {
          if (const auto* f = body->as_object().if_contains(src.name); f && f->is_string()) {
            v = std::string(f->as_string());
          }
        }
        break;
    }
    if (v) {
      auto key = NormalizeCohortKey(*v);
      if (!key.empty()) return key;
    }
  }
  return std::nullopt;
}

}  // namespace ficus::proxy
