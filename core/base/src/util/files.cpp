#include "mlq/util/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <xxhash.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>
#include <vector>

#include "mlq/util/error.hpp"
#include "mlq/util/mapped_file.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

// Opens `path` and runs `sync` (fsync: the file; syncfs: its whole filesystem) on it. Errors name
// `shown`, the file the user knows (a temporary is renamed over it).
void sync_path(const fs::path& path, const fs::path& shown, int (*sync)(int)) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || sync(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw UserError(shown.string() + ": cannot sync to disk: " + std::strerror(error));
  }
  ::close(fd);
}

// Bytes hashed between releases of a mapped file's pages.
constexpr size_t kHashWindow = size_t{1} << 20;

// file_checksum's value of what read() returns until the end, through a 1 MiB buffer.
std::string checksum_by_reading(const fs::path& path) {
  ChecksumBuilder checksum;  // before open: nothing after it may throw with the file open
  std::vector<char> buffer(1 << 20);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      const int error = errno;
      ::close(fd);
      throw UserError(path.string() + ": cannot read: " + std::strerror(error));
    }
    checksum.add(buffer.data(), static_cast<size_t>(got));
  }
  ::close(fd);
  return checksum.finish();
}

}  // namespace

void replace_file_atomic(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path temporary = path;
  temporary += ".tmp-" + std::to_string(getpid());
  try {
    write(temporary);
    // Data on disk before the rename makes it visible, so a power cut cannot leave a torn file.
    sync_path(temporary, path, ::fsync);
    std::error_code error;
    fs::rename(temporary, path, error);
    if (error)
      throw UserError(path.string() + ": cannot write: renaming " + temporary.string() + ": " +
                      error.message());
  } catch (...) {
    std::error_code ignored;
    fs::remove(temporary, ignored);
    throw;
  }
}

int write_all(int fd, std::string_view bytes) {
  for (size_t done = 0; done < bytes.size();) {
    const ssize_t wrote = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (wrote < 0 && errno == EINTR) continue;
    if (wrote <= 0) return wrote < 0 ? errno : ENOSPC;
    done += static_cast<size_t>(wrote);
  }
  return 0;
}

void append_whole(int fd, const fs::path& path, std::string_view bytes) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  if (end < 0) throw UserError(path.string() + ": cannot write: " + std::strerror(errno));
  if (const int error = write_all(fd, bytes)) {
    if (::ftruncate(fd, end) != 0) {  // the file keeps a torn tail; the error says why anyway
    }
    throw UserError(path.string() + ": cannot write: " + std::strerror(error));
  }
}

void append_file(const fs::path& path, std::string_view bytes) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw UserError(path.string() + ": cannot write: " + std::strerror(errno));
  try {
    append_whole(fd, path, bytes);
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
}

void sync_filesystem(const fs::path& path) {
  sync_path(path, path, ::syncfs);
}

std::string read_file_bytes(const fs::path& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (!file) throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
  std::string bytes;
  char buffer[65536];
  size_t count = 0;
  while ((count = std::fread(buffer, 1, sizeof buffer, file)) > 0) bytes.append(buffer, count);
  const int read_errno = errno;
  const bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed) throw UserError(path.string() + ": cannot read: " + std::strerror(read_errno));
  return bytes;
}

void write_file_atomic(const fs::path& path, std::string_view content) {
  replace_file_atomic(path, [&](const fs::path& temporary) {
    std::FILE* out = std::fopen(temporary.c_str(), "wb");
    if (!out) throw UserError(path.string() + ": cannot write: " + std::strerror(errno));
    // replace_file_atomic syncs the file before renaming it.
    const bool written = std::fwrite(content.data(), 1, content.size(), out) == content.size() &&
                         std::fflush(out) == 0;
    const int write_errno = errno;
    if (std::fclose(out) != 0 || !written)
      throw UserError(path.string() +
                      ": cannot write: " + std::strerror(written ? errno : write_errno));
  });
}

ChecksumBuilder::ChecksumBuilder() : state_(XXH3_createState()) {
  if (!state_ || XXH3_64bits_reset(state_) != XXH_OK) {
    XXH3_freeState(state_);
    throw std::bad_alloc();
  }
}

ChecksumBuilder::~ChecksumBuilder() {
  XXH3_freeState(state_);
}

void ChecksumBuilder::add(const void* bytes, size_t count) {
  XXH3_64bits_update(state_, bytes, count);
}

std::string ChecksumBuilder::finish() const {
  return fmt::format("xxh3:{:016x}", XXH3_64bits_digest(state_));
}

std::string file_checksum(const fs::path& path) {
  MappedFile file(path);
  // Empty files and those the kernel cannot map (some FUSE and special files) are read.
  if (!file.mapped()) return checksum_by_reading(path);
  file.expect_sequential();  // hashing the mapped pages skips the copy that read() makes
  ChecksumBuilder checksum;
  for (size_t done = 0; done < file.size();) {
    const size_t count = std::min(kHashWindow, file.size() - done);
    checksum.add(file.data() + done, count);
    file.check_intact();
    done += count;
    file.release_before(done);
  }
  return checksum.finish();
}

}  // namespace mlq
