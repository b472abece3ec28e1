#include "mlq/audio/npy.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstring>

#include "mlq/util/error.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, ".npy I/O assumes a little-endian host");

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicSize = 6;
// Room for any int64 count, so the header written last has the length reserved first.
constexpr int kCountWidth = 20;
// Bytes gathered per write call.
constexpr size_t kWriteSize = size_t{1} << 20;

const char* descr(DType dtype) {
  return dtype == DType::Float32 ? "<f4" : "<i2";
}

std::string shape_text(const std::vector<int64_t>& shape, int first_width) {
  std::string text = "(";
  for (size_t i = 0; i < shape.size(); ++i) {
    text += i == 0 ? fmt::format("{:<{}}", shape[i], first_width) : std::to_string(shape[i]);
    text += shape.size() == 1 || i + 1 < shape.size() ? "," : "";
    if (i + 1 < shape.size()) text += " ";
  }
  return text + ")";
}

// Version 1.0 header: magic, version, little-endian uint16 length, the dict, padded with spaces
// and a newline to a multiple of 64 bytes.
std::string header(DType dtype, const std::vector<int64_t>& shape, int first_width) {
  std::string dict = fmt::format("{{'descr': '{}', 'fortran_order': False, 'shape': {}, }}",
                                 descr(dtype), shape_text(shape, first_width));
  const size_t unpadded = kMagicSize + 2 + 2 + dict.size() + 1;
  dict.append((64 - unpadded % 64) % 64, ' ');
  dict += '\n';
  std::string out(kMagic, kMagicSize);
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict;
}

[[noreturn]] void fail(const fs::path& path, const std::string& what) {
  throw UserError(path.string() + ": " + what);
}

// The value of 'key' in the header dict, as raw text up to the next top-level comma.
std::string dict_value(const std::string& dict, const std::string& key, const fs::path& path) {
  const size_t at = dict.find("'" + key + "'");
  if (at == std::string::npos) fail(path, "not a valid .npy header (no '" + key + "')");
  size_t begin = dict.find(':', at);
  if (begin == std::string::npos) fail(path, "not a valid .npy header");
  ++begin;
  int depth = 0;
  size_t end = begin;
  for (; end < dict.size(); ++end) {
    const char c = dict[end];
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if ((c == ',' && depth == 0) || c == '}') break;
  }
  std::string value = dict.substr(begin, end - begin);
  const size_t first = value.find_first_not_of(" "), last = value.find_last_not_of(" ");
  return first == std::string::npos ? "" : value.substr(first, last - first + 1);
}

}  // namespace

const char* dtype_name(DType dtype) {
  return dtype == DType::Float32 ? "float32" : "int16";
}
size_t dtype_size(DType dtype) {
  return dtype == DType::Float32 ? 4 : 2;
}

NpyWriter::NpyWriter(fs::path path, DType dtype, std::vector<int64_t> row_shape)
    : path_(std::move(path)), dtype_(dtype), row_shape_(std::move(row_shape)) {
  temporary_ = path_;
  temporary_ += ".tmp-" + std::to_string(getpid());
  std::vector<int64_t> shape{0};
  shape.insert(shape.end(), row_shape_.begin(), row_shape_.end());
  const std::string placeholder = header(dtype_, shape, kCountWidth);
  header_size_ = placeholder.size();
  pending_.reserve(kWriteSize);
  pending_.assign(placeholder.begin(), placeholder.end());
  if (path_.has_parent_path()) fs::create_directories(path_.parent_path());
  // Last: nothing after it may throw, or the destructor would not close the file.
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail(path_, std::string("cannot write (") + std::strerror(errno) + ")");
  write_behind_ = WriteBehind(fd_);
}

NpyWriter::~NpyWriter() {
  if (fd_ >= 0) {
    ::close(fd_);
    std::error_code ignored;
    fs::remove(temporary_, ignored);
  }
}

void NpyWriter::abandon(int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  std::error_code ignored;
  fs::remove(temporary_, ignored);
  fail(path_, std::string("write failed (") + std::strerror(error) + ")");
}

void NpyWriter::write_at(const void* bytes, size_t size, uint64_t offset) {
  const char* next = static_cast<const char*>(bytes);
  while (size > 0) {
    const ssize_t done = ::pwrite(fd_, next, size, static_cast<off_t>(offset));
    if (done < 0 && errno == EINTR) continue;
    if (done <= 0) abandon(done < 0 ? errno : EIO);
    next += done;
    size -= static_cast<size_t>(done);
    offset += static_cast<uint64_t>(done);
  }
}

void NpyWriter::write_pending() {
  const uint64_t begin = written_;
  write_at(pending_.data(), pending_.size(), begin);
  written_ += pending_.size();
  pending_.clear();
  // The range starts past the header: fadvise keeps partly covered pages, so the page that
  // finish() writes the final header into is still cached (no read back from disk).
  if (const int error = write_behind_.written(std::max<uint64_t>(begin, header_size_), written_))
    abandon(error);
}

void NpyWriter::append_bytes(const void* bytes, size_t size, DType dtype) {
  if (fd_ < 0) fail(path_, "append to a closed writer (finished, or a write failed)");
  if (dtype != dtype_)
    fail(path_, std::string("cannot append ") + dtype_name(dtype) + " values to a " +
                    dtype_name(dtype_) + " array");
  values_ += static_cast<int64_t>(size / dtype_size(dtype));
  const char* next = static_cast<const char*>(bytes);
  while (size > 0) {
    const size_t take = std::min(size, kWriteSize - pending_.size());
    pending_.insert(pending_.end(), next, next + take);
    next += take;
    size -= take;
    if (pending_.size() == kWriteSize) write_pending();
  }
}

void NpyWriter::append(const float* values, size_t count) {
  append_bytes(values, count * sizeof(float), DType::Float32);
}

void NpyWriter::append(const int16_t* values, size_t count) {
  append_bytes(values, count * sizeof(int16_t), DType::Int16);
}

void NpyWriter::finish(Sync sync) {
  if (fd_ < 0) fail(path_, "finish on a closed writer (finished, or a write failed)");
  int64_t row_size = 1;
  for (int64_t d : row_shape_) row_size *= d;
  if (row_size == 0 || values_ % row_size != 0)
    fail(path_, fmt::format("{} values do not make whole rows of {}", values_, row_size));
  std::vector<int64_t> shape{values_ / row_size};
  shape.insert(shape.end(), row_shape_.begin(), row_shape_.end());
  const std::string final_header = header(dtype_, shape, kCountWidth);
  if (!pending_.empty()) write_pending();
  write_at(final_header.data(), final_header.size(), 0);
  if (sync == Sync::now && fsync(fd_) != 0) abandon(errno);
  if (const int error = write_behind_.finish()) abandon(error);
  const int closed = ::close(fd_);
  fd_ = -1;
  if (closed != 0) abandon(errno);
  std::error_code error;
  fs::rename(temporary_, path_, error);
  if (error) {
    std::error_code ignored;
    fs::remove(temporary_, ignored);
    fail(path_, "cannot move the finished file into place (" + error.message() + ")");
  }
}

namespace {

// Rows of `shape` beyond the first dimension; a 1-D array has none.
template <class T>
void write_values(const fs::path& path, DType dtype, const std::vector<T>& values,
                  const std::vector<int64_t>& shape) {
  NpyWriter writer(path, dtype,
                   shape.size() > 1 ? std::vector<int64_t>(shape.begin() + 1, shape.end())
                                    : std::vector<int64_t>{});
  writer.append(values.data(), values.size());
  writer.finish();
}

}  // namespace

void write_npy(const fs::path& path, const std::vector<float>& values,
               const std::vector<int64_t>& shape) {
  write_values(path, DType::Float32, values, shape);
}

void write_npy(const fs::path& path, const std::vector<int16_t>& values,
               const std::vector<int64_t>& shape) {
  write_values(path, DType::Int16, values, shape);
}

NpyFile::NpyFile(const fs::path& path) : path_(path), file_(path) {
  if (file_.size() < kMagicSize + 4) fail(path, "not a .npy file (too short)");
  if (!file_.mapped())
    fail(path,
         std::string("cannot map the file into memory (") + std::strerror(file_.map_error()) + ")");
  const unsigned char* bytes = file_.data();
  if (std::memcmp(bytes, kMagic, kMagicSize) != 0) fail(path, "not a .npy file (bad magic)");
  const int major = bytes[6];
  size_t header_size = 0, prefix = 0;
  if (major == 1) {
    header_size = bytes[8] | (bytes[9] << 8);
    prefix = 10;
  } else if (major == 2 || major == 3) {
    header_size = bytes[8] | (bytes[9] << 8) | (bytes[10] << 16) | (size_t(bytes[11]) << 24);
    prefix = 12;
  } else {
    fail(path, fmt::format("unsupported .npy format version {}", major));
  }
  if (prefix + header_size > file_.size()) fail(path, "truncated .npy header");
  const std::string dict(reinterpret_cast<const char*>(bytes + prefix), header_size);
  const std::string type = dict_value(dict, "descr", path);
  if (type == "'<f4'")
    dtype_ = DType::Float32;
  else if (type == "'<i2'")
    dtype_ = DType::Int16;
  else
    fail(path,
         "unsupported dtype " + type + " (expected little-endian float32 '<f4' or int16 '<i2')");
  if (dict_value(dict, "fortran_order", path) != "False")
    fail(path, "Fortran-order arrays are not supported (save with C order)");
  const std::string shape = dict_value(dict, "shape", path);
  for (size_t i = 1; i < shape.size();) {
    const size_t digit = shape.find_first_of("0123456789", i);
    if (digit == std::string::npos) break;
    int64_t dimension = 0;
    const auto [end, error] =
        std::from_chars(shape.data() + digit, shape.data() + shape.size(), dimension);
    if (error != std::errc()) fail(path, "not a valid .npy header (shape " + shape + ")");
    shape_.push_back(dimension);
    i = end - shape.data();
  }
  data_offset_ = prefix + header_size;
  // The values are read in place from the mapping (page-aligned): they must be aligned in the
  // file, as NumPy's padding of the header makes them (to 64 bytes).
  if (data_offset_ % dtype_size(dtype_) != 0)
    fail(path, fmt::format("not a valid .npy header (its {} bytes leave the {} values unaligned)",
                           data_offset_, dtype_name(dtype_)));
  // The values the header promises, counted without overflow (a count beyond 64 bits is shown
  // as the shape).
  const uint64_t available = (file_.size() - data_offset_) / dtype_size(dtype_);
  uint64_t count = std::find(shape_.begin(), shape_.end(), 0) != shape_.end() ? 0 : 1;
  bool beyond = false;
  for (int64_t d : shape_)
    beyond |= __builtin_mul_overflow(count, static_cast<uint64_t>(d), &count);
  if (beyond || count > available)
    fail(path,
         fmt::format("truncated: the header promises {} values, the file holds {}",
                     beyond ? fmt::format("{}", fmt::join(shape_, " x ")) : std::to_string(count),
                     available));
}

int64_t NpyFile::size() const {
  if (std::find(shape_.begin(), shape_.end(), 0) != shape_.end()) return 0;
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;  // checked against the file's length when it was opened
  return n;
}

const float* NpyFile::floats() const {
  if (dtype_ != DType::Float32)
    fail(path_, std::string("holds ") + dtype_name(dtype_) + " values, not float32");
  return reinterpret_cast<const float*>(file_.data() + data_offset_);
}

const int16_t* NpyFile::int16s() const {
  if (dtype_ != DType::Int16)
    fail(path_, std::string("holds ") + dtype_name(dtype_) + " values, not int16");
  return reinterpret_cast<const int16_t*>(file_.data() + data_offset_);
}

}  // namespace mlq
