#include "support/page_cache.hpp"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/mman.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <string>
#include <vector>

#include "support/temp_dir.hpp"

namespace mlq::test {

size_t cached_bytes(const std::filesystem::path& path) {
  const size_t size = std::filesystem::file_size(path);
  if (size == 0) return 0;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  void* mapping = mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  REQUIRE(mapping != MAP_FAILED);
  const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((size + page - 1) / page);
  const bool ok = mincore(mapping, size, resident.data()) == 0;
  munmap(mapping, size);
  REQUIRE(ok);
  size_t pages = 0;
  for (unsigned char flags : resident) pages += flags & 1;
  return pages * page;
}

bool page_cache_observable(const std::filesystem::path& directory) {
  struct statfs info {};
  REQUIRE(statfs(directory.c_str(), &info) == 0);
  if (info.f_type == TMPFS_MAGIC) return false;
  const auto probe = directory / ".page-cache-probe";
  const std::string bytes(size_t{1} << 20, 'p');
  write_file(probe, bytes);
  const bool cached = cached_bytes(probe) == bytes.size();
  std::filesystem::remove(probe);
  return cached;
}

}  // namespace mlq::test
