// MariaDbLegacyStore: LegacyStore on libmariadb (the C client).
//
// Reads use keyset pagination on the primary key (user_id, then
// (user_id, attr_key)) in bounded chunks, each chunk inside one
// read-only consistent-snapshot transaction, so memory stays flat on any
// table size and no long-running transaction pins the undo log. The session
// runs with time_zone '+00:00'. Timestamp columns: BIGINT is taken as
// microseconds (UTC); DATETIME is a wall time in the configured legacy zone,
// converted explicitly both ways (service/datetime.h); TIMESTAMP is an
// instant, exchanged as UTC text. Repairs write each column in its own type.
#pragma once

#include <memory>
#include <string>

#include "model/legacy_store.h"
#include "service/datetime.h"

namespace ficus::migrator {

struct MySqlOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string socket;  // when set, used instead of host:port
  std::string user;
  std::string password;
  std::string database;
  int connect_timeout_s = 5;
  int read_timeout_s = 120;
  std::shared_ptr<const TimeZone> legacy_zone;  // for DATETIME columns; UTC when null
};

// Call once from main before any thread connects (libmariadb's global init
// is not thread-safe).
void InitMariaDbLibrary();

// Connects (Unavailable with the server's message if it cannot).
Result<std::unique_ptr<LegacyStore>> ConnectMariaDb(const MySqlOptions& options);

}  // namespace ficus::migrator
