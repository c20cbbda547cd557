#include "model/stamp_journal.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace ficus::migrator {
namespace {

tl::unexpected<Error> SysError(const std::string& what, const std::string& path) {
  return MakeError(ErrorCode::kInternal,
                   "stamp journal: " + what + " " + path + ": " + std::strerror(errno));
}

// Writes all of `text` at the file's end; false with errno on failure.
bool WriteAll(int fd, const std::string& text) {
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::write(fd, text.data() + off, text.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<std::size_t>(n);
  }
  return true;
}

}  // namespace

std::string StampJournal::FileOf(std::int64_t generation) const {
  return base_ + ".stamps." + std::to_string(generation);
}

Result<StampJournalPos> StampJournal::Append(const StampJournalPos& pos, const std::string& text) {
  if (text.empty()) return pos;
  const std::string path = FileOf(pos.generation);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return SysError("open", path);
  // What a run that died before its checkpoint appended is not part of it.
  if (::ftruncate(fd, pos.bytes) != 0 || ::lseek(fd, pos.bytes, SEEK_SET) < 0 ||
      !WriteAll(fd, text) || ::fdatasync(fd) != 0) {
    auto err = SysError("append to", path);
    ::close(fd);
    return err;
  }
  ::close(fd);
  return StampJournalPos{pos.generation, pos.bytes + static_cast<std::int64_t>(text.size())};
}

Result<StampJournalPos> StampJournal::Rewrite(const StampJournalPos& pos, const std::string& text) {
  const StampJournalPos next{pos.generation + 1, static_cast<std::int64_t>(text.size())};
  const std::string path = FileOf(next.generation);
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return SysError("create", path);
  if (!WriteAll(fd, text) || ::fsync(fd) != 0) {
    auto err = SysError("write", path);
    ::close(fd);
    return err;
  }
  ::close(fd);
  std::string dir = std::filesystem::path(path).parent_path().string();
  if (dir.empty()) dir = ".";
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return next;
}

Result<std::string> StampJournal::Load(const StampJournalPos& pos) const {
  if (pos.bytes == 0) return std::string();
  const std::string path = FileOf(pos.generation);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return MakeError(ErrorCode::kNotFound, "stamp journal " + path +
                                                 ": missing, but the checkpoint names it with " +
                                                 std::to_string(pos.bytes) + " bytes");
    }
    return SysError("open", path);
  }
  std::string text(static_cast<std::size_t>(pos.bytes), '\0');
  std::size_t off = 0;
  while (off < text.size()) {
    ssize_t n = ::pread(fd, text.data() + off, text.size() - off, static_cast<off_t>(off));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = SysError("read", path);
      ::close(fd);
      return err;
    }
    if (n == 0) {
      ::close(fd);
      return MakeError(ErrorCode::kInternal, "stamp journal " + path + ": " + std::to_string(off) +
                                                 " bytes, the checkpoint "
                                                 "names " +
                                                 std::to_string(pos.bytes));
    }
    off += static_cast<std::size_t>(n);
  }
  ::close(fd);
  return text;
}

void StampJournal::Forget(std::int64_t generation) const {
  std::error_code ec;
  std::filesystem::remove(FileOf(generation), ec);
}

}  // namespace ficus::migrator
