#include "mlq/write_behind.hpp"

#include <fcntl.h>

#include <cerrno>

namespace mlq {
namespace {

// sync_file_range on `length` bytes from `offset` (0: to the end of the file). EINVAL, ESPIPE and
// ENOSYS say the file or filesystem does not take the hint.
#ifdef SYNC_FILE_RANGE_WRITE
constexpr unsigned kStart = SYNC_FILE_RANGE_WRITE;
constexpr unsigned kComplete =
    SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER;

int write_out(int fd, uint64_t offset, uint64_t length, unsigned flags) {
  if (sync_file_range(fd, static_cast<off_t>(offset), static_cast<off_t>(length), flags) == 0)
    return 0;
  return errno == EINVAL || errno == ESPIPE || errno == ENOSYS ? 0 : errno;
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
