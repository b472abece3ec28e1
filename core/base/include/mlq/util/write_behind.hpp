#pragma once
// Streaming writes: a file being written goes out to disk a chunk behind the writer, and each
// chunk leaves the page cache once it is on disk. Writing gigabytes then neither evicts what
// else is cached nor leaves it all dirty for the final sync, and each chunk's pages are the ones
// the chunk before freed: on virtual machines whose freshly allocated memory is slow to touch,
// that is most of the cost of a write (docs/data.md, section ".npy"). The writer waits for the
// disk a chunk behind, so writing runs at the disk's speed where that is the slower.
#include <cstdint>

namespace mlq {

class WriteBehind {
 public:
  explicit WriteBehind(int fd) : fd_(fd) {}

  // Bytes [begin, end) were just written: starts writing them out, then waits for the range
  // reported before to be on disk and drops it from the page cache. Returns 0 or the errno of a
  // failed write-out (EIO, ENOSPC, EDQUOT, EBADF; a file or filesystem that takes no hint is no
  // failure).
  int written(uint64_t begin, uint64_t end);
  // After the file's last write: waits until all of it is on disk, then drops it. It is still
  // not durable (no metadata or device-cache flush): fsync or syncfs does that. Same return.
  int finish();

 private:
  int fd_;
  uint64_t begin_ = 0, end_ = 0;  // the range reported last
};

}  // namespace mlq
