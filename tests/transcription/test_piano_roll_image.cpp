#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "eval/piano_roll_image.hpp"

using mlq::transcription::Note;
using mlq::transcription::piano_roll_rgb;
using mlq::transcription::PianoRollColours;

namespace {

using Rgb = std::array<int, 3>;

struct Image {
  std::vector<uint8_t> rgb;
  int width = 0;
  int height = 0;
  // The colour of the cell at `seconds` after the start on key `pitch` (its middle row).
  Rgb at(double seconds, int pitch, double pixels_per_second = 10) const {
    const int x = static_cast<int>(seconds * pixels_per_second);
    const int y = (108 - pitch) * 3 + 1;
    const size_t i = (static_cast<size_t>(y) * width + x) * 3;
    return {rgb[i], rgb[i + 1], rgb[i + 2]};
  }
};

Rgb rgb_of(const uint8_t (&colour)[3]) {
  return {colour[0], colour[1], colour[2]};
}

}  // namespace

TEST_CASE("piano roll: reference, prediction and both in three colours, keys up, time across") {
  const PianoRollColours colours;
  // A window from 1 s to 5 s, 10 columns a second.
  const std::vector<Note> reference = {{1.5, 2.5, 60, 80},   // found
                                       {3.0, 4.0, 64, 80},   // missed
                                       {0.0, 1.2, 108, 80},  // starts before the window
                                       {4.5, 9.0, 21, 80},   // ends after it
                                       {2.0, 3.0, 20, 80}};  // below the piano: left out
  const std::vector<Note> predicted = {{1.5, 2.0, 60, 90},   // the first half of the found one
                                       {2.0, 2.3, 72, 90}};  // spurious
  Image image;
  image.rgb = piano_roll_rgb(reference, predicted, 1.0, 4.0, 10, image.width, image.height);
  CHECK(image.width == 40);
  CHECK(image.height == 88 * 3);
  REQUIRE(image.rgb.size() == 40u * 264u * 3u);

  CHECK(image.at(0.55, 60) == rgb_of(colours.both));        // 1.55 s
  CHECK(image.at(1.25, 60) == rgb_of(colours.reference));   // 2.25 s: only the reference
  CHECK(image.at(0.45, 60) == rgb_of(colours.background));  // before the note (C4 is white)
  CHECK(image.at(2.5, 64) == rgb_of(colours.reference));
  CHECK(image.at(1.1, 72) == rgb_of(colours.predicted));
  CHECK(image.at(0.0, 108) == rgb_of(colours.reference));  // C8, the top row
  CHECK(image.at(0.3, 108) == rgb_of(colours.background));
  CHECK(image.at(3.95, 21) == rgb_of(colours.reference));  // A0, the bottom row, clipped at 5 s
  CHECK(image.at(3.0, 61) == rgb_of(colours.black_key));   // C#4 is a black key
  // The key rows: the top row of the image is C8, the bottom one A0.
  CHECK(image.rgb[0] == colours.reference[0]);
  const size_t bottom_left = static_cast<size_t>(image.height - 1) * image.width * 3;
  CHECK(image.rgb[bottom_left] == colours.background[0]);
}

TEST_CASE("piano roll: a note shorter than a column still shows and bad sizes are errors") {
  Image image;
  image.rgb = piano_roll_rgb({{0.501, 0.502, 69, 80}}, {}, 0.0, 1.0, 10, image.width, image.height);
  CHECK(image.at(0.5, 69) == rgb_of(PianoRollColours().reference));
  CHECK_THROWS_AS(piano_roll_rgb({}, {}, 0.0, 0.0, 10, image.width, image.height),
                  std::invalid_argument);
  CHECK_THROWS_AS(piano_roll_rgb({}, {}, 0.0, 1.0, 10, image.width, image.height, 0),
                  std::invalid_argument);
}
