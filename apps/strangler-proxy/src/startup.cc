#include "startup.h"

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <thread>

namespace ficus::proxy {

ParsedFlags ParseFlags(int argc, char** argv) {
  CLI::App app{"ficus-proxy: strangler-fig reverse proxy"};
  ProxyFlags f;
  app.add_option("--config,-c", f.config_path, "YAML config file")->required();
  app.add_option("--ready-file", f.ready_file,
                 "write {\"listen\":PORT,\"admin\":PORT} here once serving");
  app.add_option("--workers", f.workers, "event loops (overrides the config; 0 = config)");
  app.add_option("--replay-dir", f.replay_dir,
                 "replay log directory (overrides replay.dir; one process per directory, so "
                 "replicas sharing a config file on one host need their own)");
  app.add_option("--replica-id", f.replica_id,
                 "this replica's name in the fleet (control.store etcd; overrides "
                 "control.replica_id; default: the host name)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return {std::nullopt, code == 0 ? 0 : 2};
  }
  return {std::move(f), 0};
}

std::string DirOf(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
}

std::string ReplicaIdFor(const ProxyFlags& flags, const Config& cfg) {
  if (!flags.replica_id.empty()) return flags.replica_id;
  if (!cfg.control.replica_id.empty()) return cfg.control.replica_id;
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0 || buf[0] == '\0') return "proxy";
  return buf;
}

unsigned WorkersFor(const ProxyFlags& flags, const Config& cfg) {
  if (flags.workers) return flags.workers;
  if (cfg.workers) return cfg.workers;
  return std::max(1u, std::thread::hardware_concurrency());
}

void WriteReadyFile(const std::string& path, uint16_t port, uint16_t admin_port) {
  const std::string tmp = path + ".tmp";
  std::ofstream(tmp) << "{\"listen\":" << port << ",\"admin\":" << admin_port << "}\n";
  std::rename(tmp.c_str(), path.c_str());
}

}  // namespace ficus::proxy
