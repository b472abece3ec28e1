#pragma once
// A piano roll picture comparing a reference transcription with a predicted one (TensorBoard
// images at validation, reports).
#include <cstdint>
#include <vector>

#include "data/notes.hpp"

namespace mlq::transcription {

// Colours of the cells (RGB).
struct PianoRollColours {
  uint8_t background[3] = {255, 255, 255};
  uint8_t black_key[3] = {238, 238, 238};  // rows of black keys, lightly shaded
  uint8_t reference[3] = {66, 133, 244};   // reference only (missed): blue
  uint8_t predicted[3] = {234, 67, 53};    // predicted only (spurious): red
  uint8_t both[3] = {30, 150, 70};         // both: green
};

// Row-major RGB pixels of [start, start + seconds): the 88 piano keys on the y axis (A0 at the
// bottom, C8 at the top, `pixels_per_key` rows each), time on the x axis (`pixels_per_second`
// columns a second). A cell shows a note when the note sounds during any part of it. Notes
// outside the window or the piano's range are left out. Sets width and height.
std::vector<uint8_t> piano_roll_rgb(const std::vector<Note>& reference,
                                    const std::vector<Note>& predicted, double start,
                                    double seconds, double pixels_per_second, int& width,
                                    int& height, int pixels_per_key = 3,
                                    const PianoRollColours& colours = {});

}  // namespace mlq::transcription
