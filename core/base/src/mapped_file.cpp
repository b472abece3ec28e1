#include "mlq/mapped_file.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>

#include "mlq/error.hpp"

namespace mlq {
namespace {

// Pages are released in steps this large: one madvise call per step, not per read.
constexpr size_t kReleaseStep = size_t{4} << 20;

}  // namespace

MappedFile::MappedFile(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw UserError(path.string() + ": cannot read: " + std::strerror(errno));
  struct stat info {};
  if (fstat(fd, &info) != 0) {
    const int error = errno;
    ::close(fd);
    throw UserError(path.string() + ": cannot read: " + std::strerror(error));
  }
  size_ = static_cast<size_t>(info.st_size);
  if (size_ > 0) {
    void* map = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map != MAP_FAILED)
      data_ = static_cast<unsigned char*>(map);
    else
      map_error_ = errno;
  }
  ::close(fd);  // the mapping keeps the file; many open NpyFiles must not use up descriptors
}

MappedFile::~MappedFile() {
  if (data_) munmap(data_, size_);
}

MappedFile::MappedFile(MappedFile&& other) noexcept
    : data_(other.data_),
      size_(other.size_),
      released_(other.released_),
      map_error_(other.map_error_) {
  other.data_ = nullptr;
}

void MappedFile::expect_sequential() const {
  if (data_) madvise(data_, size_, MADV_SEQUENTIAL);
}

void MappedFile::release_before(size_t offset) {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  const size_t end = std::min(offset, size_) / page * page;
  if (!data_ || end < released_ + kReleaseStep) return;
  madvise(data_ + released_, end - released_, MADV_DONTNEED);
  released_ = end;
}

}  // namespace mlq
