// Standard MIDI Files: parse_midi() on the bytes, then the pedal extension on what it read.
#include <cmath>
#include <cstdlib>
#include <string>

#include "data/midi_file.hpp"
#include "fuzz_target.hpp"
#include "mlq/util/error.hpp"

MLQ_FUZZ_TARGET(midi) {
  using namespace mlq::transcription;
  Performance performance;
  try {
    performance = parse_midi(std::string(mlq::fuzz::bytes(data, size)), "fuzz.mid");
  } catch (const mlq::UserError&) {
    return;
  }
  // What the header promises the readers: onsets before offsets, within the duration.
  for (const Note& note : performance.notes)
    if (!(note.onset <= note.offset) || !(note.offset <= performance.duration) || note.pitch < 0 ||
        note.pitch > 127 || note.velocity < 1 || note.velocity > 127)
      std::abort();
  for (const Pedal& pedal : performance.pedals)
    if (!(pedal.onset <= pedal.offset) || !(pedal.offset <= performance.duration)) std::abort();
  const auto extended = extend_offsets_by_pedal(performance.notes, performance.pedals);
  if (extended.size() != performance.notes.size()) std::abort();
}
