#include "mlq/files.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <xxhash.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

#include "mlq/error.hpp"
#include "mlq/text.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

// Data on disk before the rename makes it visible, so a power cut cannot leave a torn file.
void sync_file(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) return;
  fsync(fd);
  ::close(fd);
}

}  // namespace

void replace_file_atomic(const fs::path& path, const std::function<void(const fs::path&)>& write) {
  fs::path temporary = path;
  temporary += ".tmp-" + std::to_string(getpid());
  try {
    write(temporary);
    sync_file(temporary);
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

void sync_filesystem(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || syncfs(fd) != 0) {
    const int error = errno;
    if (fd >= 0) ::close(fd);
    throw UserError(path.string() + ": cannot sync to disk: " + std::strerror(error));
  }
  ::close(fd);
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

std::string file_checksum(const fs::path& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
  struct stat info {};
  void* map = MAP_FAILED;
  const bool mapped = fstat(fd, &info) == 0 &&
                      (info.st_size == 0 || (map = mmap(nullptr, info.st_size, PROT_READ,
                                                        MAP_PRIVATE, fd, 0)) != MAP_FAILED);
  const int map_errno = errno;
  close(fd);
  if (!mapped) throw UserError(path.string() + ": cannot read: " + std::strerror(map_errno));
  if (info.st_size == 0) return fmt::format("xxh3:{:016x}", XXH3_64bits(nullptr, 0));
  // Hashing the mapped pages skips the copy that read() makes.
  madvise(map, info.st_size, MADV_SEQUENTIAL);
  const XXH64_hash_t hash = XXH3_64bits(map, static_cast<size_t>(info.st_size));
  munmap(map, info.st_size);
  return fmt::format("xxh3:{:016x}", hash);
}

}  // namespace mlq
