#pragma once
// What is played, as MIDI says it: notes and sustain-pedal presses in seconds. The synthesiser
// renders it; the transcription task reads and writes it as MIDI files.
#include <vector>

namespace mlq {

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

}  // namespace mlq
