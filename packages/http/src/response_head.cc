#include "response_head.h"

#include <array>
#include <cstring>

namespace ficus::http {

namespace {

// RFC 9110 5.6.2 tchar.
constexpr std::array<bool, 256> MakeTchar() {
  std::array<bool, 256> t{};
  for (int c = '0'; c <= '9'; ++c) t[c] = true;
  for (int c = 'a'; c <= 'z'; ++c) t[c] = true;
  for (int c = 'A'; c <= 'Z'; ++c) t[c] = true;
  for (char c : std::string_view("!#$%&'*+-.^_`|~")) t[static_cast<unsigned char>(c)] = true;
  return t;
}
constexpr auto kTchar = MakeTchar();

std::string_view TrimOws(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}

}  // namespace

HeadParse ParseSimpleResponseHead(std::string_view data, std::size_t max_head_bytes,
                                  SimpleResponseHead& out, http::Headers& headers) {
  // One pass, line by line (memchr finds each LF); every line must end in
  // CRLF, the head ends at the first empty line.
  const char* const begin = data.data();
  const char* const end = begin + data.size();
  auto next_line = [&](const char* p, std::string_view& line) -> HeadParse {
    const auto* nl =
        static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (!nl) return data.size() > max_head_bytes ? HeadParse::kDecline : HeadParse::kNeedMore;
    if (nl == p || nl[-1] != '\r') return HeadParse::kDecline;  // bare LF
    line = std::string_view(p, static_cast<std::size_t>(nl - 1 - p));
    return HeadParse::kOk;
  };

  // Status line: "HTTP/1.1 DDD SP [reason]" (the second SP is required).
  std::string_view line;
  if (auto st = next_line(begin, line); st != HeadParse::kOk) return st;
  const char* p = line.data() + line.size() + 2;
  if (line.size() < 12 || line.substr(0, 9) != "HTTP/1.1 " || !IsDigit(line[9]) ||
      !IsDigit(line[10]) || !IsDigit(line[11]) || line.size() < 13 || line[12] != ' ' ||
      !http::IsFieldValueText(line.substr(12))) {
    return HeadParse::kDecline;
  }
  const unsigned status =
      static_cast<unsigned>((line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0'));
  if (status < 200 || status == 204 || status == 304) return HeadParse::kDecline;

  // Fields: validated first, added only when the whole head is simple.
  struct Field {  // no initializers: the array is not zeroed on every call
    const char* name;
    const char* value;
    std::uint32_t name_len, value_len;
  };
  std::array<Field, 64> fields;  // NOLINT(cppcoreguidelines-pro-type-member-init)
  std::size_t n_fields = 0;
  bool have_length = false, keep_alive = true, lists_fields = false;
  uint64_t length = 0;
  for (;;) {
    if (end - p >= 2 && p[0] == '\r' && p[1] == '\n') {  // the empty line
      p += 2;
      break;
    }
    std::string_view fl;
    if (auto st = next_line(p, fl); st != HeadParse::kOk) return st;
    p = fl.data() + fl.size() + 2;
    if (static_cast<std::size_t>(p - begin) > max_head_bytes) return HeadParse::kDecline;
    const std::size_t colon = fl.find(':');
    if (colon == 0 || colon == std::string_view::npos) return HeadParse::kDecline;
    const std::string_view name = fl.substr(0, colon);
    for (char c : name) {
      if (!kTchar[static_cast<unsigned char>(c)]) return HeadParse::kDecline;
    }
    const std::string_view raw = fl.substr(colon + 1);
    if (!http::IsFieldValueText(raw)) return HeadParse::kDecline;  // CR, LF, other CTL
    const std::string_view value = TrimOws(raw);
    switch (http::FramingRole(name)) {
      case http::FieldRole::kContentLength:
        if (have_length || value.empty() || value.size() > 15) return HeadParse::kDecline;
        for (char c : value) {
          if (!IsDigit(c)) return HeadParse::kDecline;
          length = length * 10 + static_cast<uint64_t>(c - '0');
        }
        have_length = true;
        continue;
      case http::FieldRole::kTransferEncoding:
        return HeadParse::kDecline;
      case http::FieldRole::kHopByHop:
        continue;
      case http::FieldRole::kConnection: {
        bool other = false;
        std::string_view v = value;
        while (!v.empty()) {
          const std::size_t comma = v.find(',');
          const std::string_view tok = TrimOws(v.substr(0, comma));
          // A token list (as Beast requires): anything else is declined.
          if (tok.empty()) return HeadParse::kDecline;
          for (char c : tok) {
            if (!kTchar[static_cast<unsigned char>(c)]) return HeadParse::kDecline;
          }
          if (http::IEquals(tok, "close")) {
            keep_alive = false;
          } else if (!http::IEquals(tok, "keep-alive")) {
            other = true;
          }
          v = comma == std::string_view::npos ? std::string_view() : v.substr(comma + 1);
        }
        if (!other) continue;
        lists_fields = true;  // kept, so the caller strips the named fields
        break;
      }
      case http::FieldRole::kEndToEnd:
        break;
    }
    if (n_fields == fields.size()) return HeadParse::kDecline;
    fields[n_fields++] = {name.data(), value.data(), static_cast<std::uint32_t>(name.size()),
                          static_cast<std::uint32_t>(value.size())};
  }
  if (!have_length) return HeadParse::kDecline;  // close-delimited: Beast reads to EOF

  for (std::size_t i = 0; i < n_fields; ++i) {
    headers.AddParsed({fields[i].name, fields[i].name_len},  // no CR/LF: checked above
                      {fields[i].value, fields[i].value_len});
  }
  out.status = status;
  out.reason_len = line.size() - SimpleResponseHead::kReasonPos;
  out.head_bytes = static_cast<std::size_t>(p - begin);
  out.content_length = length;
  out.keep_alive = keep_alive;
  out.connection_lists_fields = lists_fields;
  return HeadParse::kOk;
}

}  // namespace ficus::http
