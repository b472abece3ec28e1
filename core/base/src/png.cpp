#include "mlq/png.hpp"

#include <algorithm>
#include <array>
#include <stdexcept>

#include "byte_order.hpp"
#include "reflected_crc.hpp"

namespace mlq {
namespace {

// CRC-32 of PNG chunks, over bytes[begin, end).
uint32_t crc32(const std::string& bytes, size_t begin) {
  return reflected_crc32<0xEDB88320u>(reinterpret_cast<const uint8_t*>(bytes.data()) + begin,
                                      bytes.size() - begin);
}

// Appends a chunk: length, type, data, CRC of type and data.
void append_chunk(std::string& png, const char* type, const std::string& data) {
  append_be32(png, static_cast<uint32_t>(data.size()));
  const size_t start = png.size();
  png.append(type, 4);
  png += data;
  append_be32(png, crc32(png, start));
}

// A zlib stream (RFC 1950) of stored deflate blocks (RFC 1951) holding `raw`.
std::string zlib_stored(const std::string& raw) {
  std::string out = "\x78\x01";  // deflate, 32 KiB window, no dictionary, fastest
  constexpr size_t kBlock = 65535;
  size_t offset = 0;
  do {
    const size_t length = std::min(kBlock, raw.size() - offset);
    const bool final = offset + length == raw.size();
    out += static_cast<char>(final ? 1 : 0);  // BFINAL, BTYPE = 00 (stored)
    append_le16(out, static_cast<uint16_t>(length));
    append_le16(out, static_cast<uint16_t>(~length));
    out.append(raw, offset, length);
    offset += length;
  } while (offset < raw.size());
  uint32_t a = 1, b = 0;  // Adler-32
  for (unsigned char byte : raw) {
    a = (a + byte) % 65521;
    b = (b + a) % 65521;
  }
  append_be32(out, (b << 16) | a);
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
  append_chunk(png, "IDAT", zlib_stored(raw));
  append_chunk(png, "IEND", "");
  return png;
}

}  // namespace mlq
