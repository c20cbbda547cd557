// BinlogSource: a replication connection to the legacy MariaDB that streams
// raw binlog events from a GTID position.
//
// One instance is one connection, used by one thread. Open() connects as a
// replica (needs only REPLICATION SLAVE) and asks for the events after
// `gtid_position` ("" = from the oldest binlog the server has), with a
// heartbeat every second while idle. Next() blocks until the next event and
// returns its bytes (common header .. CRC32), valid until the next call.
// Errors: Unavailable (cannot connect, connection lost: reconnect and
// reopen), PreconditionFailed (the server no longer has the binlog of that
// position: purged; the message is the server's), InvalidArgument (access
// denied, bad settings). Messages name the server.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "ficus/result.h"

namespace ficus::migrator {

class BinlogSource {
 public:
  virtual ~BinlogSource() = default;
  virtual Status Open(const std::string& gtid_position) = 0;
  virtual Result<std::span<const std::uint8_t>> Next() = 0;
  // Whether the events of this session carry CRC32 checksums.
  [[nodiscard]] virtual bool checksum() const = 0;
  [[nodiscard]] virtual std::string Describe() const = 0;
};

using BinlogSourceFactory = std::function<std::unique_ptr<BinlogSource>()>;

}  // namespace ficus::migrator
