#pragma once
// PNG encoding without a library: 8-bit RGB, for TensorBoard images and reports.
#include <cstdint>
#include <string>

namespace mlq {

// A PNG file of `width` x `height` pixels from row-major RGB bytes (3 per pixel, top row first).
// The image data is a zlib stream of stored (uncompressed) deflate blocks: any PNG reader opens
// it, and encoding costs a copy and two checksums.
std::string encode_png_rgb(const uint8_t* rgb, int width, int height);

}  // namespace mlq
