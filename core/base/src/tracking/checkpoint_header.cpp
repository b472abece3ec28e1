#include "mlq/tracking/checkpoint_header.hpp"

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iterator>

#include "mlq/util/error.hpp"
#include "mlq/util/mapped_file.hpp"

namespace mlq {
namespace {

constexpr std::string_view kLocalHeader("PK\x03\x04", 4);
constexpr std::string_view kCentralHeader("PK\x01\x02", 4);
constexpr std::string_view kEndOfCentralDirectory("PK\x05\x06", 4);
constexpr std::string_view kZip64Locator("PK\x06\x07", 4);
constexpr std::string_view kZip64EndOfCentralDirectory("PK\x06\x06", 4);
constexpr size_t kEocdSize = 22;        // without the comment
constexpr size_t kMaxComment = 0xFFFF;  // the comment length is 16 bits
constexpr size_t kZip64LocatorSize = 20;
constexpr size_t kZip64EocdSize = 56;  // without the extensible data

uint64_t little_endian(std::string_view bytes, size_t pos, int size) {
  uint64_t value = 0;
  for (int i = size - 1; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[pos + i]);
  return value;
}

[[noreturn]] void fail(const std::string& name, const std::string& what) {
  throw UserError(name + ": not a readable checkpoint (" + what + ")");
}

}  // namespace

void check_checkpoint_bytes(std::string_view bytes, const std::string& name) {
  const size_t size = bytes.size();
  if (size < kLocalHeader.size() || bytes.substr(0, kLocalHeader.size()) != kLocalHeader)
    fail(name, size == 0 ? "the file is empty" : "no ZIP local file header at the start");
  if (size < kEocdSize) fail(name, "too short for a ZIP archive");

  // The EOCD is the last 22 bytes plus a comment of up to 65535 bytes: search back from there.
  const size_t lowest = size - kEocdSize >= kMaxComment ? size - kEocdSize - kMaxComment : 0;
  size_t eocd = std::string_view::npos;
  for (size_t pos = size - kEocdSize + 1; pos-- > lowest;) {
    if (bytes.compare(pos, 4, kEndOfCentralDirectory) == 0) {
      eocd = pos;
      break;
    }
  }
  if (eocd == std::string_view::npos)
    fail(name, "no ZIP end of central directory record: the file is truncated or not a ZIP");

  uint64_t directory_size = little_endian(bytes, eocd + 12, 4);
  uint64_t directory_offset = little_endian(bytes, eocd + 16, 4);

  // ZIP64: the locator sits just before the EOCD and points at the ZIP64 EOCD record, whose
  // directory size and offset replace the 32-bit ones.
  if (eocd >= kZip64LocatorSize && bytes.compare(eocd - kZip64LocatorSize, 4, kZip64Locator) == 0) {
    const size_t locator = eocd - kZip64LocatorSize;
    const uint64_t record = little_endian(bytes, locator + 8, 8);
    if (record > locator || locator - record < kZip64EocdSize)
      fail(name, "the ZIP64 end of central directory record lies outside the file");
    if (bytes.compare(record, 4, kZip64EndOfCentralDirectory) != 0)
      fail(name, "no ZIP64 end of central directory record where the locator points");
    directory_size = little_endian(bytes, record + 40, 8);
    directory_offset = little_endian(bytes, record + 48, 8);
  }

  if (directory_offset > eocd || directory_size > eocd - directory_offset)
    fail(name, "the central directory lies outside the file (offset " +
                   std::to_string(directory_offset) + ", size " + std::to_string(directory_size) +
                   ", the file has " + std::to_string(size) + " bytes)");
  if (directory_size < kCentralHeader.size() ||
      bytes.compare(directory_offset, kCentralHeader.size(), kCentralHeader) != 0)
    fail(name, "no central directory header where the end record points");
}

void check_checkpoint_header(const std::filesystem::path& path) {
  // Mapped, so only the pages the check looks at are read, however large the checkpoint.
  const MappedFile file(path);
  if (file.mapped()) {
    check_checkpoint_bytes(
        std::string_view(reinterpret_cast<const char*>(file.data()), file.size()), path.string());
    file.check_intact();
    return;
  }
  if (file.map_error() == 0) fail(path.string(), "the file is empty");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), std::string("cannot open it: ") + std::strerror(errno));
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) fail(path.string(), "cannot read it");
  check_checkpoint_bytes(bytes, path.string());
}

}  // namespace mlq
