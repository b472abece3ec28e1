#include "mlq/media/png.hpp"

#include <algorithm>
#include <array>
#include <new>
#include <stdexcept>

#include <zlib.h>

#include "mlq/util/byte_order.hpp"

namespace mlq {
namespace {

// Appends a chunk: length, type, data, CRC-32 of type and data.
void append_chunk(std::string& png, const char* type, const std::string& data) {
  append_be32(png, static_cast<uint32_t>(data.size()));
  const size_t start = png.size();
  png.append(type, 4);
  png += data;
  const auto* typed = reinterpret_cast<const Bytef*>(png.data() + start);
  append_be32(png, static_cast<uint32_t>(crc32(0, typed, static_cast<uInt>(png.size() - start))));
}

// `raw` as a zlib stream (RFC 1950), deflated at zlib's default level.
std::string zlib_deflated(const std::string& raw) {
  uLongf size = compressBound(static_cast<uLong>(raw.size()));
  std::string out(size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(out.data()), &size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                Z_DEFAULT_COMPRESSION) != Z_OK)
    throw std::bad_alloc();  // zlib fails here only when it cannot allocate
  out.resize(size);
  return out;
}

}  // namespace

std::string encode_png_rgb(const uint8_t* rgb, int width, int height) {
  if (width <= 0 || height <= 0)
    throw std::invalid_argument("encode_png_rgb: image of " + std::to_string(width) + " x " +
                                std::to_string(height) + " pixels; expected both positive");
  const size_t row = static_cast<size_t>(width) * 3;
  std::string raw;
  raw.reserve((row + 1) * static_cast<size_t>(height));
  for (int y = 0; y < height; ++y) {
    raw += '\0';  // filter type None
    raw.append(reinterpret_cast<const char*>(rgb) + row * static_cast<size_t>(y), row);
  }
  std::string header;
  append_be32(header, static_cast<uint32_t>(width));
  append_be32(header, static_cast<uint32_t>(height));
  header += "\x08\x02";    // 8 bits per channel, colour type 2 (RGB)
  header.append(3, '\0');  // deflate, adaptive filtering, no interlace
  std::string png = "\x89PNG\r\n\x1a\n";
  append_chunk(png, "IHDR", header);
  append_chunk(png, "IDAT", zlib_deflated(raw));
  append_chunk(png, "IEND", "");
  return png;
}

}  // namespace mlq
