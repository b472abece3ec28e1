#include "eval/confusion_image.hpp"

#include <algorithm>
#include <cctype>
#include <cstring>
#include <numeric>

#include "mlq/plugin_base.hpp"

namespace mlq::classification {
namespace {

// A 5x7 pixel font for lowercase letters, digits and _-. (other characters show as '.').
const char kGlyphChars[] = "abcdefghijklmnopqrstuvwxyz0123456789_-. ";
// Each glyph: 7 rows of 5 bits, the leftmost pixel in bit 4.
const uint8_t kGlyphs[][7] = {
    {0x00, 0x00, 0x0e, 0x01, 0x0f, 0x11, 0x0f},  // 'a'
    {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x1e},  // 'b'
    {0x00, 0x00, 0x0f, 0x10, 0x10, 0x10, 0x0f},  // 'c'
    {0x01, 0x01, 0x0f, 0x11, 0x11, 0x11, 0x0f},  // 'd'
    {0x00, 0x00, 0x0e, 0x11, 0x1f, 0x10, 0x0e},  // 'e'
    {0x06, 0x08, 0x1e, 0x08, 0x08, 0x08, 0x08},  // 'f'
    {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x0e},  // 'g'
    {0x10, 0x10, 0x1e, 0x11, 0x11, 0x11, 0x11},  // 'h'
    {0x04, 0x00, 0x0c, 0x04, 0x04, 0x04, 0x0e},  // 'i'
    {0x02, 0x00, 0x06, 0x02, 0x02, 0x12, 0x0c},  // 'j'
    {0x10, 0x10, 0x12, 0x14, 0x18, 0x14, 0x12},  // 'k'
    {0x0c, 0x04, 0x04, 0x04, 0x04, 0x04, 0x0e},  // 'l'
    {0x00, 0x00, 0x1a, 0x15, 0x15, 0x15, 0x15},  // 'm'
    {0x00, 0x00, 0x1e, 0x11, 0x11, 0x11, 0x11},  // 'n'
    {0x00, 0x00, 0x0e, 0x11, 0x11, 0x11, 0x0e},  // 'o'
    {0x00, 0x1e, 0x11, 0x11, 0x1e, 0x10, 0x10},  // 'p'
    {0x00, 0x0f, 0x11, 0x11, 0x0f, 0x01, 0x01},  // 'q'
    {0x00, 0x00, 0x16, 0x19, 0x10, 0x10, 0x10},  // 'r'
    {0x00, 0x00, 0x0f, 0x10, 0x0e, 0x01, 0x1e},  // 's'
    {0x08, 0x08, 0x1e, 0x08, 0x08, 0x09, 0x06},  // 't'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x13, 0x0d},  // 'u'
    {0x00, 0x00, 0x11, 0x11, 0x11, 0x0a, 0x04},  // 'v'
    {0x00, 0x00, 0x11, 0x11, 0x15, 0x15, 0x0a},  // 'w'
    {0x00, 0x00, 0x11, 0x0a, 0x04, 0x0a, 0x11},  // 'x'
    {0x00, 0x11, 0x11, 0x11, 0x0f, 0x01, 0x0e},  // 'y'
    {0x00, 0x00, 0x1f, 0x02, 0x04, 0x08, 0x1f},  // 'z'
    {0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e},  // '0'
    {0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e},  // '1'
    {0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f},  // '2'
    {0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e},  // '3'
    {0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02},  // '4'
    {0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e},  // '5'
    {0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e},  // '6'
    {0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08},  // '7'
    {0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e},  // '8'
    {0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c},  // '9'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1f},  // '_'
    {0x00, 0x00, 0x00, 0x1f, 0x00, 0x00, 0x00},  // '-'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x0c},  // '.'
    {0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00},  // ' '
};

constexpr int kCell = 26;       // pixels per matrix cell
constexpr int kGlyphWidth = 6;  // 5 pixels and a space
constexpr int kGlyphHeight = 7;

class Canvas {
 public:
  Canvas(int width, int height) : width_(width), height_(height) {
    rgb_.assign(static_cast<size_t>(width) * height * 3, 255);
  }
  void fill(int x0, int y0, int w, int h, const uint8_t colour[3]) {
    for (int y = std::max(0, y0); y < std::min(height_, y0 + h); ++y)
      for (int x = std::max(0, x0); x < std::min(width_, x0 + w); ++x)
        std::memcpy(&rgb_[(static_cast<size_t>(y) * width_ + x) * 3], colour, 3);
  }
  void text(int x, int y, const std::string& s, const uint8_t colour[3]) {
    for (char raw : s) {
      const char c = static_cast<char>(std::tolower(static_cast<unsigned char>(raw)));
      const char* found = std::strchr(kGlyphChars, c);
      const size_t glyph =
          found && c ? found - kGlyphChars : std::strchr(kGlyphChars, '.') - kGlyphChars;
      for (int row = 0; row < kGlyphHeight; ++row)
        for (int col = 0; col < 5; ++col)
          if (kGlyphs[glyph][row] >> (4 - col) & 1) fill(x + col, y + row, 1, 1, colour);
      x += kGlyphWidth;
    }
  }
  Picture picture() && { return {std::move(rgb_), width_, height_}; }

 private:
  int width_, height_;
  std::vector<uint8_t> rgb_;
};

// White to `full` as share goes from 0 to 1.
void shade(double share, const uint8_t full[3], uint8_t out[3]) {
  for (int i = 0; i < 3; ++i)
    out[i] = static_cast<uint8_t>(std::lround(255 - share * (255 - full[i])));
}

}  // namespace

Picture confusion_picture(const std::vector<std::vector<int64_t>>& confusion,
                          const std::vector<std::string>& class_names) {
  const int n = static_cast<int>(confusion.size());
  size_t longest = 0;
  for (int i = 0; i < n; ++i)
    longest = std::max(longest, std::to_string(i).size() + 1 + class_names.at(i).size());
  const int left = static_cast<int>(longest) * kGlyphWidth + 8, top = kGlyphHeight + 8;
  Canvas canvas(left + n * kCell + 4, top + n * kCell + 4);
  const uint8_t black[3] = {0, 0, 0}, white[3] = {255, 255, 255}, grid[3] = {220, 220, 220};
  const uint8_t right[3] = {30, 150, 70}, wrong[3] = {234, 67, 53};
  for (int t = 0; t < n; ++t) {
    canvas.text(2, top + t * kCell + (kCell - kGlyphHeight) / 2,
                std::to_string(t) + " " + class_names[t], black);
    const std::string column = std::to_string(t);
    canvas.text(left + t * kCell + (kCell - static_cast<int>(column.size()) * kGlyphWidth) / 2, 3,
                column, black);
    const int64_t row_total = std::accumulate(confusion[t].begin(), confusion[t].end(), int64_t{0});
    for (int p = 0; p < n; ++p) {
      const int x = left + p * kCell, y = top + t * kCell;
      const int64_t count = confusion[t][p];
      const double share = row_total > 0 ? static_cast<double>(count) / row_total : 0;
      uint8_t colour[3];
      shade(share, t == p ? right : wrong, colour);
      canvas.fill(x, y, kCell, kCell, grid);
      canvas.fill(x + 1, y + 1, kCell - 1, kCell - 1, colour);
      if (count == 0) continue;
      const std::string label = std::to_string(count);
      canvas.text(x + (kCell - static_cast<int>(label.size()) * kGlyphWidth) / 2 + 1,
                  y + (kCell - kGlyphHeight) / 2, label, share > 0.5 ? white : black);
    }
  }
  return std::move(canvas).picture();
}

std::string confusion_csv(const std::vector<std::vector<int64_t>>& confusion,
                          const std::vector<std::string>& class_names) {
  std::string csv = "true\\predicted";
  for (const std::string& name : class_names) csv += "," + csv_field(name);
  csv += "\n";
  for (size_t t = 0; t < confusion.size(); ++t) {
    csv += csv_field(class_names.at(t));
    for (int64_t count : confusion[t]) csv += "," + std::to_string(count);
    csv += "\n";
  }
  return csv;
}

}  // namespace mlq::classification
