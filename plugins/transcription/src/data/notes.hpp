#pragma once
// The transcription data model: what a MIDI file, the synthesiser and the post-processing share.
#include <vector>

namespace mlq::transcription {

// One played note; times in seconds, pitch as a MIDI key number (piano: 21..108).
struct Note {
  double onset = 0;
  double offset = 0;
  int pitch = 0;
  int velocity = 0;  // 1..127
};

// One press of the sustain pedal (CC64 >= 64), in seconds.
struct Pedal {
  double onset = 0;
  double offset = 0;
};

// A piece: notes sorted by (onset, pitch), pedal presses sorted by onset.
struct Performance {
  std::vector<Note> notes;
  std::vector<Pedal> pedals;
  double duration = 0;  // seconds; the end of the last event
};

}  // namespace mlq::transcription
