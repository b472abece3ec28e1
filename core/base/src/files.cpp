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
#include <memory>
#include <new>
#include <vector>

#include "mlq/error.hpp"

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

// XXH3 of what read() returns until the end, through a 1 MiB buffer.
XXH64_hash_t hash_by_reading(int fd, const fs::path& path) {
  std::unique_ptr<XXH3_state_t, decltype(&XXH3_freeState)> state(XXH3_createState(),
                                                                 &XXH3_freeState);
  if (!state || XXH3_64bits_reset(state.get()) != XXH_OK) throw std::bad_alloc();
  std::vector<char> buffer(1 << 20);
  for (;;) {
    const ssize_t got = ::read(fd, buffer.data(), buffer.size());
    if (got == 0) break;
    if (got < 0) {
      if (errno == EINTR) continue;
      throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
    }
    XXH3_64bits_update(state.get(), buffer.data(), static_cast<size_t>(got));
  }
  return XXH3_64bits_digest(state.get());
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

std::string file_checksum(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
  XXH64_hash_t hash = 0;
  try {
    struct stat info {};
    void* map = MAP_FAILED;
    if (fstat(fd, &info) == 0 && info.st_size > 0)
      map = mmap(nullptr, info.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED) {  // hashing the mapped pages skips the copy that read() makes
      madvise(map, info.st_size, MADV_SEQUENTIAL);
      hash = XXH3_64bits(map, static_cast<size_t>(info.st_size));
      munmap(map, info.st_size);
    } else {  // empty, or not mappable (some FUSE and special files)
      hash = hash_by_reading(fd, path);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  return fmt::format("xxh3:{:016x}", hash);
}

}  // namespace mlq
