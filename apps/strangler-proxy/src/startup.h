// What ficus-proxy's main reads from its command line and writes for the
// scripts that start it (compiled into the binary only).
//
//   ficus-proxy --config ficus.yaml [--ready-file PATH] [--workers N] [--replay-dir DIR]
//               [--replica-id ID]
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "domain/config.h"

namespace ficus::proxy {

struct ProxyFlags {
  std::string config_path;
  std::string ready_file;
  unsigned workers = 0;  // 0: the config's
  std::string replay_dir;
  std::string replica_id;
};

// The flags, or the exit code when the process should stop now (--help: 0,
// a bad command line: 2, with the message printed).
struct ParsedFlags {
  std::optional<ProxyFlags> flags;
  int exit_code = 0;
};
ParsedFlags ParseFlags(int argc, char** argv);

// Directory of the config file ("." for a bare name): where the replay log,
// audit log and autopilot state live unless the config says otherwise.
std::string DirOf(const std::string& path);

// --replica-id, else control.replica_id, else the host name.
std::string ReplicaIdFor(const ProxyFlags& flags, const Config& cfg);

// Event loops: --workers, else `workers:`, else one per CPU.
unsigned WorkersFor(const ProxyFlags& flags, const Config& cfg);

// {"listen":PORT,"admin":PORT} written to PATH.tmp and renamed: whoever
// waits for the file sees it whole.
void WriteReadyFile(const std::string& path, uint16_t port, uint16_t admin_port);

}  // namespace ficus::proxy
