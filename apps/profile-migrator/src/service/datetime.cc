#include "service/datetime.h"

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

namespace ficus::migrator {
namespace {

bool Digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  out = v;
  return true;
}

int DaysInMonth(int y, int m) {
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return m == 2 && leap ? 29 : kDays[m - 1];
}

std::int64_t FloorDiv(std::int64_t a, std::int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}

std::uint32_t Be32(std::string_view b, std::size_t at) {
  return (std::uint32_t(std::uint8_t(b[at])) << 24) |
         (std::uint32_t(std::uint8_t(b[at + 1])) << 16) |
         (std::uint32_t(std::uint8_t(b[at + 2])) << 8) | std::uint32_t(std::uint8_t(b[at + 3]));
}
std::int64_t Be64(std::string_view b, std::size_t at) {
  return static_cast<std::int64_t>((std::uint64_t(Be32(b, at)) << 32) | Be32(b, at + 4));
}

}  // namespace

std::int64_t DaysFromCivil(int y, int m, int d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

CivilTime CivilFromUnixUs(std::int64_t us) {
  const std::int64_t secs = FloorDiv(us, 1'000'000);
  CivilTime c;
  c.micros = static_cast<int>(us - secs * 1'000'000);
  std::int64_t days = FloorDiv(secs, 86400);
  std::int64_t sod = secs - days * 86400;
  c.hour = static_cast<int>(sod / 3600);
  c.minute = static_cast<int>(sod % 3600 / 60);
  c.second = static_cast<int>(sod % 60);
  days += 719468;
  const std::int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(days - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int>(yoe + era * 400 + (c.month <= 2));
  return c;
}

Result<CivilTime> ParseDatetime(std::string_view s) {
  auto bad = [&](const char* why) {
    return MakeError(ErrorCode::kInvalidArgument, "DATETIME '" + std::string(s) + "': " + why);
  };
  CivilTime c;
  if (s.size() < 19 || !Digits(s, 0, 4, c.year) || s[4] != '-' || !Digits(s, 5, 2, c.month) ||
      s[7] != '-' || !Digits(s, 8, 2, c.day) || (s[10] != ' ' && s[10] != 'T') ||
      !Digits(s, 11, 2, c.hour) || s[13] != ':' || !Digits(s, 14, 2, c.minute) || s[16] != ':' ||
      !Digits(s, 17, 2, c.second)) {
    return bad("expected YYYY-MM-DD HH:MM:SS[.ffffff]");
  }
  if (s.size() > 19) {
    const std::size_t n = s.size() - 20;
    if (s[19] != '.' || n < 1 || n > 6 || !Digits(s, 20, n, c.micros)) {
      return bad("fraction must be '.' and 1 to 6 digits");
    }
    for (std::size_t i = n; i < 6; ++i) c.micros *= 10;
  }
  if (c.year == 0 && c.month == 0 && c.day == 0) return bad("zero date has no instant");
  if (c.month < 1 || c.month > 12 || c.day < 1 || c.day > DaysInMonth(c.year, c.month)) {
    return bad("no such date");
  }
  if (c.hour > 23 || c.minute > 59 || c.second > 59) return bad("no such time of day");
  return c;
}

Result<std::int64_t> ParseIsoUtcUs(std::string_view s) {
  if (s.size() != 27 || s[10] != 'T' || s[26] != 'Z' || s[19] != '.') {
    return MakeError(ErrorCode::kInvalidArgument,
                     "updated_at '" + std::string(s) + "': expected YYYY-MM-DDTHH:MM:SS.ffffffZ");
  }
  auto c = ParseDatetime(s.substr(0, 26));
  if (!c) return tl::unexpected(c.error());
  return (DaysFromCivil(c->year, c->month, c->day) * 86400 + std::int64_t{c->hour} * 3600 +
          std::int64_t{c->minute} * 60 + c->second) *
             1'000'000 +
         c->micros;
}

std::string FormatIsoUtcUs(std::int64_t us) {
  const CivilTime c = CivilFromUnixUs(us);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ", c.year, c.month, c.day,
                c.hour, c.minute, c.second, c.micros);
  return buf;
}

TimeZone TimeZone::Utc() {
  TimeZone z;
  z.name_ = "UTC";
  return z;
}

Result<TimeZone> TimeZone::Load(std::string_view name, const std::string& zoneinfo_dir) {
  const std::string n(name);
  if (n.empty()) return MakeError(ErrorCode::kInvalidArgument, "time zone: empty name");
  if (n == "UTC" || n == "Z" || n == "utc") return Utc();
  if (n[0] == '+' || n[0] == '-') {
    int hh = 0, mm = 0;
    const bool colon = n.size() == 6 && n[3] == ':';
    if (!((colon && Digits(n, 1, 2, hh) && Digits(n, 4, 2, mm)) ||
          (n.size() == 5 && Digits(n, 1, 2, hh) && Digits(n, 3, 2, mm)) ||
          (n.size() == 3 && Digits(n, 1, 2, hh))) ||
        hh > 14 || mm > 59) {
      return MakeError(ErrorCode::kInvalidArgument,
                       "time zone '" + n + "': offset must be +HH:MM or -HH:MM");
    }
    TimeZone z;
    z.name_ = n;
    z.initial_offset_ = (n[0] == '-' ? -1 : 1) * (hh * 3600 + mm * 60);
    return z;
  }
  if (n.find("..") != std::string::npos || n[0] == '/') {
    return MakeError(ErrorCode::kInvalidArgument, "time zone '" + n + "': not an IANA zone name");
  }
  std::ifstream in(zoneinfo_dir + "/" + n, std::ios::binary);
  if (!in) {
    return MakeError(ErrorCode::kInvalidArgument,
                     "time zone '" + n + "': unknown (no file in " + zoneinfo_dir + ")");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  return FromTzif(n, ss.str());
}

Result<TimeZone> TimeZone::FromTzif(std::string name, std::string_view b) {
  auto bad = [&](const char* why) {
    return MakeError(ErrorCode::kInvalidArgument, "time zone '" + name + "': " + why);
  };
  if (b.size() < 44 || b.substr(0, 4) != "TZif") return bad("not a TZif file");
  auto parse_block = [&](std::size_t at, int time_size, std::size_t& end, TimeZone& z) -> Status {
    if (b.size() < at + 44) return bad("truncated header");
    const std::uint32_t isutcnt = Be32(b, at + 20), isstdcnt = Be32(b, at + 24),
                        leapcnt = Be32(b, at + 28), timecnt = Be32(b, at + 32),
                        typecnt = Be32(b, at + 36), charcnt = Be32(b, at + 40);
    std::size_t p = at + 44;
    const std::size_t need = std::size_t(timecnt) * time_size + timecnt + std::size_t{typecnt} * 6 +
                             charcnt + std::size_t(leapcnt) * (time_size + 4) + isstdcnt + isutcnt;
    if (typecnt == 0 || b.size() < p + need) return bad("truncated data");
    std::vector<std::int64_t> times(timecnt);
    for (std::uint32_t i = 0; i < timecnt; ++i) {
      times[i] = time_size == 8 ? Be64(b, p + std::size_t{i} * 8)
                                : static_cast<std::int32_t>(Be32(b, p + std::size_t{i} * 4));
    }
    p += std::size_t(timecnt) * time_size;
    std::vector<std::uint8_t> idx(timecnt);
    for (std::uint32_t i = 0; i < timecnt; ++i) idx[i] = std::uint8_t(b[p + i]);
    p += timecnt;
    std::vector<std::int32_t> type_off(typecnt);
    for (std::uint32_t i = 0; i < typecnt; ++i) {
      type_off[i] = static_cast<std::int32_t>(Be32(b, p + std::size_t{i} * 6));
    }
    z.transitions_.clear();
    z.offsets_.clear();
    for (std::uint32_t i = 0; i < timecnt; ++i) {
      if (idx[i] >= typecnt) return bad("transition names a missing type");
      z.transitions_.push_back(times[i]);
      z.offsets_.push_back(type_off[idx[i]]);
    }
    z.initial_offset_ = type_off[0];
    end = at + 44 + need;
    return {};
  };
  TimeZone z;
  z.name_ = name;
  std::size_t end = 0;
  if (auto s = parse_block(0, 4, end, z); !s) return tl::unexpected(s.error());
  if (b[4] >= '2') {
    if (auto s = parse_block(end, 8, end, z); !s) return tl::unexpected(s.error());
  }
  return z;
}

std::int64_t TimeZone::OffsetAt(std::int64_t t) const {
  auto it = std::upper_bound(transitions_.begin(), transitions_.end(), t);
  if (it == transitions_.begin()) return initial_offset_;
  return offsets_[static_cast<std::size_t>(it - transitions_.begin() - 1)];
}

std::int64_t TimeZone::LocalToUnixUs(const CivilTime& c) const {
  const std::int64_t local = DaysFromCivil(c.year, c.month, c.day) * 86400 +
                             std::int64_t{c.hour} * 3600 + std::int64_t{c.minute} * 60 + c.second;
  const std::int64_t before = OffsetAt(local - 86400), after = OffsetAt(local + 86400);
  std::int64_t best = 0;
  bool found = false;
  for (std::int64_t off : {before, after}) {
    const std::int64_t utc = local - off;
    if (OffsetAt(utc) == off && (!found || utc < best)) {
      best = utc;
      found = true;
    }
  }
  if (!found) best = local - before;  // in a gap
  return best * 1'000'000 + c.micros;
}

Result<std::int64_t> DatetimeToUnixUs(std::string_view text, const TimeZone& zone) {
  auto c = ParseDatetime(text);
  if (!c) return tl::unexpected(c.error());
  return zone.LocalToUnixUs(*c);
}

std::string UnixUsToDatetime(std::int64_t us, const TimeZone& zone) {
  const std::int64_t offset_s = zone.OffsetAt(FloorDiv(us, 1'000'000));
  const CivilTime c = CivilFromUnixUs(us + offset_s * 1'000'000);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d:%02d.%06d", c.year, c.month, c.day,
                c.hour, c.minute, c.second, c.micros);
  return buf;
}

}  // namespace ficus::migrator
