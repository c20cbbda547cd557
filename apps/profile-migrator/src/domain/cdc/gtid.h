// MariaDB global transaction ids and replication positions.
//
// A Gtid is "domain-server-sequence" (e.g. 0-1-42). A GtidPosition is the
// last applied Gtid of each replication domain, the form MariaDB takes in
// @slave_connect_state and prints in @@gtid_binlog_pos: "0-1-42,1-7-3",
// domains ascending, at most one Gtid per domain; "" = nothing yet (start at
// the oldest binlog the server still has). Pure values, no I/O.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "ficus/result.h"

namespace ficus::migrator::cdc {

struct Gtid {
  std::uint32_t domain = 0;
  std::uint32_t server = 0;
  std::uint64_t sequence = 0;

  bool operator==(const Gtid&) const = default;
  [[nodiscard]] std::string ToString() const;
};

// InvalidArgument naming the text when it is not "D-S-N" (decimal, in range).
Result<Gtid> ParseGtid(std::string_view text);

class GtidPosition {
 public:
  GtidPosition() = default;

  // InvalidArgument naming the bad element; a domain given twice is an error.
  static Result<GtidPosition> Parse(std::string_view text);

  // Records `g` as the newest transaction of its domain.
  void Advance(const Gtid& g);

  [[nodiscard]] bool empty() const { return gtids_.empty(); }
  [[nodiscard]] const std::vector<Gtid>& gtids() const { return gtids_; }
  [[nodiscard]] std::string ToString() const;
  // Transactions in `newer` after this position, summed over domains
  // (sequence numbers of one domain are dense in MariaDB with
  // gtid_strict_mode). A domain this position lacks counts from 0.
  [[nodiscard]] std::uint64_t DistanceTo(const GtidPosition& newer) const;

  bool operator==(const GtidPosition&) const = default;

 private:
  std::vector<Gtid> gtids_;  // sorted by domain, one per domain
};

}  // namespace ficus::migrator::cdc
