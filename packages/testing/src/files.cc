#include "ficus/testing/files.h"

#include <cstdio>
#include <fstream>
#include <sstream>

namespace ficus::testing {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool WriteFile(const std::string& path, const std::string& text, bool atomic) {
  const std::string target = atomic ? path + ".tmp" : path;
  {
    std::ofstream out(target, std::ios::binary | std::ios::trunc);
    if (!(out << text)) return false;
  }
  return !atomic || std::rename(target.c_str(), path.c_str()) == 0;
}

}  // namespace ficus::testing
