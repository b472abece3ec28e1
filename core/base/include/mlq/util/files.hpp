#pragma once
#include <cstddef>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

struct XXH3_state_s;

namespace mlq {

// A whole file's bytes; one-line UserError "<path>: cannot read: <reason>" if it cannot be read.
std::string read_file_bytes(const std::filesystem::path& path);

// Writes `content` to a temporary file beside `path`, then renames it over `path`, so readers
// and crashes never see a half-written file.
void write_file_atomic(const std::filesystem::path& path, std::string_view content);
// The same for writers that need a path: `write` fills the temporary file it is given.
void replace_file_atomic(const std::filesystem::path& path,
                         const std::function<void(const std::filesystem::path&)>& write);
// Writes all of `bytes` to `fd` at its position, retrying short and interrupted writes. Returns 0,
// or the errno of the write that failed (ENOSPC for a write that wrote nothing).
int write_all(int fd, std::string_view bytes);

// Appends `bytes` to the file open as `fd` (`path` names it in messages) whole or not at all: a
// failed write (a full disk, a file-size limit) cuts the file back to its old end and throws
// UserError "<path>: cannot write: <reason>", so readers never see half a record.
void append_whole(int fd, const std::filesystem::path& path, std::string_view bytes);
// The same on a file opened for the call (created if absent).
void append_file(const std::filesystem::path& path, std::string_view bytes);

// Flushes everything written to the filesystem holding `path` to disk (syncfs): one call makes a
// batch of files written without their own fsync durable. UserError naming `path` on failure.
void sync_filesystem(const std::filesystem::path& path);

// A file's checksum for change detection: "xxh3:" and the 64-bit XXH3 of its bytes in 16 hex
// digits, as `xxhsum -H3` prints it (memory-mapped; about 20x faster than byte-wise FNV-1a).
std::string file_checksum(const std::filesystem::path& path);

// Builds file_checksum's value from a file's bytes handed over in order, for readers that go
// through the file anyway.
class ChecksumBuilder {
 public:
  ChecksumBuilder();
  ~ChecksumBuilder();
  ChecksumBuilder(const ChecksumBuilder&) = delete;
  ChecksumBuilder& operator=(const ChecksumBuilder&) = delete;
  void add(const void* bytes, size_t count);
  std::string finish() const;

 private:
  XXH3_state_s* state_;
};

}  // namespace mlq
