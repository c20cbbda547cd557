#include "model/config_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <vector>

namespace ficus::proxy {
namespace {

struct Edit {
  size_t pos = 0;
  size_t len = 0;
  std::string text;
};

// Structural equality; maps compare as unordered key sets (YAML semantics),
// scalars by their text.
bool SameNode(const YAML::Node& a, const YAML::Node& b) {
  if (a.Type() != b.Type()) return false;
  switch (a.Type()) {
    case YAML::NodeType::Scalar:
      return a.Scalar() == b.Scalar();
    case YAML::NodeType::Sequence:
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!SameNode(a[i], b[i])) return false;
      }
      return true;
    case YAML::NodeType::Map:
      if (a.size() != b.size()) return false;
      for (auto it = a.begin(); it != a.end(); ++it) {
        const YAML::Node other = b[it->first.Scalar()];
        if (!other.IsDefined() || !SameNode(it->second, other)) return false;
      }
      return true;
    default:
      return true;
  }
}

// Source extent of the scalar starting at `pos` (block context).
size_t ScalarLength(std::string_view text, size_t pos) {
  if (pos >= text.size()) return 0;
  char q = text[pos];
  if (q == '"' || q == '\'') {
    for (size_t i = pos + 1; i < text.size(); ++i) {
      if (q == '"' && text[i] == '\\') {
        ++i;
        continue;
      }
      if (text[i] == q) {
        if (q == '\'' && i + 1 < text.size() && text[i + 1] == '\'') {
          ++i;
          continue;
        }
        return i + 1 - pos;
      }
    }
    return 0;
  }
  size_t end = pos;
  while (end < text.size() && text[end] != '\n' && text[end] != '\r') {
    if (text[end] == '#' && end > pos && (text[end - 1] == ' ' || text[end - 1] == '\t')) break;
    ++end;
  }
  while (end > pos && (text[end - 1] == ' ' || text[end - 1] == '\t')) --end;
  return end - pos;
}

std::vector<std::pair<std::string, std::string>> Fields(const RouteFieldUpdate& u) {
  std::vector<std::pair<std::string, std::string>> f;
  if (u.mode) f.emplace_back("mode", *u.mode);
  if (u.percent_bp) f.emplace_back("percent", FormatPercent(*u.percent_bp));
  if (u.paused) f.emplace_back("paused", *u.paused ? "true" : "false");
  return f;
}

// In-place edit of a block-style route; nullopt when not possible.
std::optional<std::string> EditInPlace(std::string_view text, const YAML::Node& route,
                                       const std::vector<std::pair<std::string, std::string>>& f) {
  if (route.Style() == YAML::EmitterStyle::Flow) return std::nullopt;
  int name_column = -1;
  for (auto it = route.begin(); it != route.end(); ++it) {
    if (it->first.Scalar() == "name") name_column = it->first.Mark().column;
  }
  const YAML::Node name_value = route["name"];
  if (name_column < 0 || !name_value.IsScalar()) return std::nullopt;
  std::vector<Edit> edits;
  std::string inserted;
  for (const auto& [key, value] : f) {
    const YAML::Node v = route[key];
    if (v.IsDefined()) {
      if (!v.IsScalar() || v.Mark().pos < 0) return std::nullopt;
      size_t pos = static_cast<size_t>(v.Mark().pos);
      size_t len = ScalarLength(text, pos);
      if (len == 0) return std::nullopt;
      edits.push_back(Edit{pos, len, value});
    } else {
      inserted += '\n';
      inserted.append(static_cast<size_t>(name_column), ' ');
      inserted += key;
      inserted += ": ";
      inserted += value;
    }
  }
  if (!inserted.empty()) {
    size_t name_pos = static_cast<size_t>(name_value.Mark().pos);
    size_t eol = text.find('\n', name_pos);
    if (eol == std::string_view::npos) eol = text.size();
    if (eol > 0 && text[eol - 1] == '\r') --eol;
    edits.push_back(Edit{eol, 0, inserted});
  }
  std::sort(edits.begin(), edits.end(), [](const Edit& a, const Edit& b) { return a.pos > b.pos; });
  std::string out(text);
  for (const Edit& e : edits) out.replace(e.pos, e.len, e.text);
  return out;
}

tl::unexpected<Error> Errno(const std::string& what) {
  return MakeError(ErrorCode::kInternal, what + ": " + std::strerror(errno));
}

}  // namespace

std::string FormatPercent(uint32_t bp) {
  std::string s = std::to_string(bp / 100);
  uint32_t frac = bp % 100;
  if (frac != 0) {
    s += '.';
    s += static_cast<char>('0' + frac / 10);
    if (frac % 10 != 0) s += static_cast<char>('0' + frac % 10);
  }
  return s;
}

Result<std::string> UpdateRouteFields(std::string_view yaml_text, std::string_view route_name,
                                      const RouteFieldUpdate& update) {
  try {
    const YAML::Node root = YAML::Load(std::string(yaml_text));
    const YAML::Node routes = root["routes"];
    if (!routes.IsSequence()) {
      return MakeError(ErrorCode::kInvalidArgument, "routes: missing or not a sequence");
    }
    size_t index = routes.size();
    for (size_t i = 0; i < routes.size(); ++i) {
      const YAML::Node name = routes[i]["name"];
      if (name.IsScalar() && name.Scalar() == route_name) index = i;
    }
    if (index == routes.size()) {
      return MakeError(ErrorCode::kNotFound, "routes: no route named " + std::string(route_name));
    }
    auto fields = Fields(update);
    YAML::Node expected = YAML::Clone(root);
    YAML::Node target = expected["routes"][index];
    for (const auto& [key, value] : fields) target[key] = value;

    if (auto edited = EditInPlace(yaml_text, routes[index], fields)) {
      try {
        if (SameNode(YAML::Load(*edited), expected)) return *edited;
      } catch (const YAML::Exception&) {
        // fall through to a full re-emit
      }
    }
    YAML::Emitter emitter;
    emitter << expected;
    if (!emitter.good()) {
      return MakeError(ErrorCode::kInternal, "config: cannot emit YAML: " + emitter.GetLastError());
    }
    return std::string(emitter.c_str()) + "\n";
  } catch (const YAML::Exception& e) {
    return MakeError(ErrorCode::kInvalidArgument, std::string("config: ") + e.what());
  }
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  std::string tmp = dir + "/." + base + ".tmp." + std::to_string(::getpid());
  mode_t mode = 0644;
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) mode = st.st_mode & 07777;
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Errno("config: create " + tmp);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = ::write(fd, contents.data() + done, contents.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      auto e = Errno("config: write " + tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return e;
    }
    done += static_cast<size_t>(n);
  }
  if (::fchmod(fd, mode) != 0 || ::fsync(fd) != 0) {
    auto e = Errno("config: fsync " + tmp);
    ::close(fd);
    ::unlink(tmp.c_str());
    return e;
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto e = Errno("config: rename " + tmp + " -> " + path);
    ::unlink(tmp.c_str());
    return e;
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd < 0) return Errno("config: open dir " + dir);
  int rc = ::fsync(dfd);
  ::close(dfd);
  if (rc != 0) return Errno("config: fsync dir " + dir);
  return {};
}

Result<std::string> ConfigWriter::UpdateRoute(std::string_view route_name,
                                              const RouteFieldUpdate& update) {
  std::lock_guard<std::mutex> lock(mu_);
  std::ifstream in(path_, std::ios::binary);
  if (!in) return MakeError(ErrorCode::kUnavailable, "config: cannot read " + path_);
  std::stringstream ss;
  ss << in.rdbuf();
  auto text = UpdateRouteFields(ss.str(), route_name, update);
  if (!text) return text;
  if (auto st = WriteFileAtomically(path_, *text); !st) return tl::unexpected(st.error());
  return text;
}

}  // namespace ficus::proxy
