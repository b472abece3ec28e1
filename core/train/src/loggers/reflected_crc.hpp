#pragma once
// Table-driven CRC-32 with a reflected polynomial: 0xEDB88320 is the CRC-32 of PNG and zlib,
// 0x82F63B78 the CRC-32C (Castagnoli) of TFRecord files.
#include <array>
#include <cstddef>
#include <cstdint>

namespace mlq {

template <uint32_t kPolynomial>
uint32_t reflected_crc32(const uint8_t* bytes, size_t size) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t n = 0; n < 256; ++n) {
      uint32_t c = n;
      for (int k = 0; k < 8; ++k) c = c & 1 ? kPolynomial ^ (c >> 1) : c >> 1;
      t[n] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ bytes[i]) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

}  // namespace mlq
