// TempDir: a fresh directory under $TMPDIR (or /tmp) for one test, removed
// with everything in it when the object is destroyed - unless FICUS_KEEP_TMP
// is set (non-empty) in the environment, then it is kept for a post-mortem
// (the path is the prefix plus a unique suffix, e.g. /tmp/ficus-proxy-bb-a1B2c3).
//
// Errors: the constructor throws std::runtime_error when the directory cannot
// be made. Removal errors are ignored (a test may have left a read-only file).
// Not copyable; movable (the moved-from object removes nothing).
#pragma once

#include <string>

namespace ficus::testing {

class TempDir {
 public:
  // `prefix`: the start of the directory's name, e.g. "ficus-writer-bb".
  explicit TempDir(const std::string& prefix = "ficus-test");
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  TempDir(TempDir&& other) noexcept;
  TempDir& operator=(TempDir&& other) noexcept;

  [[nodiscard]] const std::string& path() const { return path_; }
  // path() + "/" + name.
  [[nodiscard]] std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  void Remove();
  std::string path_;
};

// True when FICUS_KEEP_TMP asks to keep test directories.
[[nodiscard]] bool KeepTempDirs();

}  // namespace ficus::testing
