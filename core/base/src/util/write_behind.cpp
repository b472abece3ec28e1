#include "mlq/util/write_behind.hpp"

#include <fcntl.h>

#include <cerrno>

namespace mlq {
namespace {

#if defined(__linux__) && !defined(SYNC_FILE_RANGE_WRITE)
#error "sync_file_range needs _GNU_SOURCE (g++ and clang++ define it for C++)"
#endif

// Errors that mean the data did not reach the disk; anything else (EINVAL or ESPIPE: the file or
// filesystem takes no hint, ENOMEM, ...) leaves the write as it was.
bool write_failed(int error) {
  return error == EIO || error == ENOSPC || error == EDQUOT || error == EBADF;
}

// sync_file_range on `length` bytes from `offset` (0: to the end of the file): 0 or the errno of
// a failed write-out.
#ifdef SYNC_FILE_RANGE_WRITE
constexpr unsigned kStart = SYNC_FILE_RANGE_WRITE;
constexpr unsigned kComplete =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

int write_out(int fd, uint64_t offset, uint64_t length, unsigned flags) {
  if (sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(length), flags) == 0)
    return 0;
  return write_failed(errno) ? errno : 0;
}
#else
constexpr unsigned kStart = 0, kComplete = 0;
int write_out(int, uint64_t, uint64_t, unsigned) {
  return 0;
}
#endif

// A hint: pages still dirty, or mapped by someone, stay cached.
void drop(int fd, uint64_t offset, uint64_t length) {
  posix_fadvise(fd, static_cast<off_t>(offset), static_cast<off_t>(length), POSIX_FADV_DONTNEED);
}

}  // namespace

int WriteBehind::written(uint64_t begin, uint64_t end) {
  if (end <= begin) return 0;
  if (const int error = write_out(fd_, begin, end - begin, kStart)) return error;
  if (end_ > begin_) {
    if (const int error = write_out(fd_, begin_, end_ - begin_, kComplete)) return error;
    drop(fd_, begin_, end_ - begin_);
  }
  begin_ = begin;
  end_ = end;
  return 0;
}

int WriteBehind::finish() {
  begin_ = end_ = 0;
  if (const int error = write_out(fd_, 0, 0, kComplete)) return error;
  drop(fd_, 0, 0);
  return 0;
}

}  // namespace mlq
