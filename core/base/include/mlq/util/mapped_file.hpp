#pragma once
// A whole file mapped read-only into memory: readers take its bytes without the copy read()
// makes, and the page cache, not the process, holds them.
#include <cstddef>
#include <filesystem>
#include <string>

namespace mlq {

class MappedFile {
 public:
  // One-line UserError "<path>: cannot read: <reason>" when the file cannot be opened. An empty
  // file, or one the kernel cannot map (some FUSE and special files), gives mapped() == false.
  explicit MappedFile(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&&) = delete;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  bool mapped() const { return data_ != nullptr; }
  // Whether a read found the file shorter than when it was mapped (another process truncated
  // it). Such a read gets zeros instead of the process's death by SIGBUS; readers call
  // check_intact() after reading to turn that into an error.
  bool truncated() const;
  // UserError "<path>: the file shrank while it was being read ..." once truncated().
  void check_intact() const;
  // Why a non-empty file is not mapped (mmap's errno), else 0.
  int map_error() const { return map_error_; }
  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }

  // For readers going front to back once: more read-ahead from the kernel.
  void expect_sequential() const;
  // Drops the pages before `offset` from this process's resident memory (MADV_DONTNEED; they
  // stay in the page cache and the mapping stays) once a few MiB have gathered, so reading a file
  // of any length keeps resident memory bounded. Reading released bytes again faults them back in.
  void release_before(size_t offset);

 private:
  std::filesystem::path path_;
  unsigned char* data_ = nullptr;
  size_t size_ = 0;
  int guard_ = -1;  // slot in the SIGBUS guard's table, or -1
  size_t released_ = 0;
  int map_error_ = 0;
};

}  // namespace mlq
