#include "eval/piano_roll_image.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace mlq::transcription {
namespace {

constexpr int kLowestKey = 21;  // A0
constexpr int kKeys = 88;

// Marks, for each key, the columns during which a note of `notes` sounds.
std::vector<uint8_t> key_columns(const std::vector<Note>& notes, double start, int width,
                                 double pixels_per_second) {
  std::vector<uint8_t> on(static_cast<size_t>(kKeys) * static_cast<size_t>(width), 0);
  for (const Note& note : notes) {
    const int key = note.pitch - kLowestKey;
    if (key < 0 || key >= kKeys) continue;
    const double first = std::floor((note.onset - start) * pixels_per_second);
    const double end = std::max(first + 1, std::ceil((note.offset - start) * pixels_per_second));
    const auto from = static_cast<int>(std::clamp(first, 0.0, static_cast<double>(width)));
    const auto to = static_cast<int>(std::clamp(end, 0.0, static_cast<double>(width)));
    std::fill(on.begin() + key * width + from, on.begin() + key * width + to, 1);
  }
  return on;
}

bool black_key(int key) {
  switch ((key + kLowestKey) % 12) {
    case 1:
    case 3:
    case 6:
    case 8:
    case 10:
      return true;
    default:
      return false;
  }
}

}  // namespace

std::vector<uint8_t> piano_roll_rgb(const std::vector<Note>& reference,
                                    const std::vector<Note>& predicted, double start,
                                    double seconds, double pixels_per_second, int& width,
                                    int& height, int pixels_per_key,
                                    const PianoRollColours& colours) {
  if (!(seconds > 0) || !(pixels_per_second > 0) || pixels_per_key < 1)
    throw std::invalid_argument("piano_roll_rgb: " + std::to_string(seconds) + " s at " +
                                std::to_string(pixels_per_second) + " pixels/s and " +
                                std::to_string(pixels_per_key) +
                                " pixels/key; expected all positive");
  width = std::max(1, static_cast<int>(std::lround(seconds * pixels_per_second)));
  height = kKeys * pixels_per_key;
  const std::vector<uint8_t> ref = key_columns(reference, start, width, pixels_per_second);
  const std::vector<uint8_t> est = key_columns(predicted, start, width, pixels_per_second);
  std::vector<uint8_t> rgb(static_cast<size_t>(width) * static_cast<size_t>(height) * 3);
  for (int y = 0; y < height; ++y) {
    const int key = kKeys - 1 - y / pixels_per_key;  // the highest key on top
    const uint8_t* empty = black_key(key) ? colours.black_key : colours.background;
    for (int x = 0; x < width; ++x) {
      const size_t cell = static_cast<size_t>(key) * static_cast<size_t>(width) + x;
      const uint8_t* colour = ref[cell] && est[cell] ? colours.both
                              : ref[cell]            ? colours.reference
                              : est[cell]            ? colours.predicted
                                                     : empty;
      std::copy(colour, colour + 3, rgb.begin() + (static_cast<size_t>(y) * width + x) * 3);
    }
  }
  return rgb;
}

}  // namespace mlq::transcription
