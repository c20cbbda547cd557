// Explicit time conversions for legacy data.
//
// Legacy MySQL DATETIME values carry no zone: they are wall-clock times in
// whatever zone the monolith ran in. The migrator never lets the MySQL
// session or the process TZ decide; every DATETIME is parsed as text and
// converted here with an explicit TimeZone (UTC unless --legacy-tz says
// otherwise). All functions are pure except TimeZone::Load, which reads a
// TZif file. Errors name the offending input.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"

namespace ficus::migrator {

struct CivilTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int micros = 0;
};

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t DaysFromCivil(int year, int month, int day);
CivilTime CivilFromUnixUs(std::int64_t us);

// "YYYY-MM-DD HH:MM:SS" with an optional ".f" of 1..6 digits ('T' also accepted
// as separator). InvalidArgument names the value and what is wrong.
Result<CivilTime> ParseDatetime(std::string_view text);

// The contract's updated_at form "YYYY-MM-DDTHH:MM:SS.ffffffZ" <-> microseconds.
Result<std::int64_t> ParseIsoUtcUs(std::string_view text);
std::string FormatIsoUtcUs(std::int64_t us);

// A time zone: UTC, a fixed offset ("+08:00", "-0530"), or an IANA name read
// from a TZif file. Immutable after construction; safe to share.
class TimeZone {
 public:
  static TimeZone Utc();
  // name: "UTC", "+HH:MM"/"-HH:MM"/"+HHMM", or an IANA name such as "Asia/Shanghai".
  static Result<TimeZone> Load(std::string_view name,
                               const std::string& zoneinfo_dir = "/usr/share/zoneinfo");
  // Parses TZif bytes (v1 data, or the 64-bit block of v2+). Beyond the last
  // transition the last offset stays in force.
  static Result<TimeZone> FromTzif(std::string name, std::string_view bytes);

  [[nodiscard]] const std::string& name() const { return name_; }
  // UTC offset in seconds in force at the given instant.
  [[nodiscard]] std::int64_t OffsetAt(std::int64_t unix_seconds) const;
  // Wall-clock time in this zone -> instant. A time that occurs twice (DST
  // fold) resolves to the earlier instant; a time skipped by a DST gap is
  // read with the offset in force before the gap (so it lands after it).
  [[nodiscard]] std::int64_t LocalToUnixUs(const CivilTime& local) const;

 private:
  std::string name_;
  std::vector<std::int64_t> transitions_;  // unix seconds, ascending
  std::vector<std::int32_t> offsets_;      // offsets_[i] in force from transitions_[i]
  std::int32_t initial_offset_ = 0;        // before the first transition
};

// ParseDatetime + TimeZone::LocalToUnixUs. Zero dates ("0000-00-00 ...") are errors.
Result<std::int64_t> DatetimeToUnixUs(std::string_view text, const TimeZone& zone);

// The inverse, for writing a DATETIME back: the wall time of instant `us` in
// `zone` as "YYYY-MM-DD HH:MM:SS.ffffff". DatetimeToUnixUs of the result gives
// `us` back, except for the later instant of a DST fold (it reads as the
// earlier one: the wall time alone cannot tell them apart).
std::string UnixUsToDatetime(std::int64_t us, const TimeZone& zone);

}  // namespace ficus::migrator
