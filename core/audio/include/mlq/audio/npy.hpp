#pragma once
// NumPy .npy files (format versions 1-3 read, 1.0 written): little-endian float32 or int16,
// C order. Writes are atomic (temporary file, then rename); reads are memory-mapped.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "mlq/util/mapped_file.hpp"
#include "mlq/util/write_behind.hpp"

namespace mlq {

enum class DType { Float32, Int16 };
const char* dtype_name(DType dtype);  // "float32", "int16"
size_t dtype_size(DType dtype);

// Appends blocks as they come and writes the header (with the final shape) at finish(), so a
// long signal never needs to be in memory. Nothing appears at `path` until finish() succeeds;
// a writer destroyed unfinished removes its temporary file. The data goes to disk a MiB behind
// the writer and does not stay in the page cache (WriteBehind).
class NpyWriter {
 public:
  // `row_shape` is the shape of one row (empty for a 1-D array); rows are appended.
  NpyWriter(std::filesystem::path path, DType dtype, std::vector<int64_t> row_shape = {});
  ~NpyWriter();
  NpyWriter(const NpyWriter&) = delete;
  NpyWriter& operator=(const NpyWriter&) = delete;

  void append(const float* values, size_t count);    // Float32 writers
  void append(const int16_t* values, size_t count);  // Int16 writers
  // Completes the header and renames the file into place. Sync::now fsyncs it first; with
  // Sync::later the caller makes it durable (sync_filesystem) before anything relies on it.
  enum class Sync { now, later };
  void finish(Sync sync = Sync::now);

 private:
  void append_bytes(const void* bytes, size_t size, DType dtype);
  void write_at(const void* bytes, size_t size, uint64_t offset);
  void write_pending();
  [[noreturn]] void abandon(int error);

  std::filesystem::path path_, temporary_;
  DType dtype_;
  std::vector<int64_t> row_shape_;
  int64_t values_ = 0;
  size_t header_size_ = 0;
  int fd_ = -1;
  std::vector<char> pending_;  // bytes gathered for the next write call (up to 1 MiB)
  uint64_t written_ = 0;       // bytes in the file so far
  WriteBehind write_behind_{-1};
};

void write_npy(const std::filesystem::path& path, const std::vector<float>& values,
               const std::vector<int64_t>& shape = {});
void write_npy(const std::filesystem::path& path, const std::vector<int16_t>& values,
               const std::vector<int64_t>& shape = {});

// A memory-mapped .npy file. Errors (missing, not .npy, unsupported dtype or Fortran order,
// truncated data) are one-line UserErrors naming the file.
class NpyFile {
 public:
  explicit NpyFile(const std::filesystem::path& path);
  NpyFile(NpyFile&& other) noexcept = default;
  NpyFile(const NpyFile&) = delete;
  NpyFile& operator=(const NpyFile&) = delete;

  DType dtype() const { return dtype_; }
  const std::vector<int64_t>& shape() const { return shape_; }
  int64_t size() const;  // number of values
  // The values, checked against the file's dtype.
  const float* floats() const;
  const int16_t* int16s() const;
  // Throws a UserError naming the file if it shrank since it was opened, so that values read
  // from it were zeros (see MappedFile::check_intact).
  void check_intact() const { file_.check_intact(); }

 private:
  std::filesystem::path path_;
  DType dtype_ = DType::Float32;
  std::vector<int64_t> shape_;
  MappedFile file_;
  size_t data_offset_ = 0;
};

}  // namespace mlq
