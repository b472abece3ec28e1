#pragma once
// A transcription in the forms people read besides MIDI: note and pedal events as CSV and JSON,
// and a piano-roll picture.
#include <string>

#include "data/notes.hpp"

namespace mlq::transcription {

// "kind,onset,offset,pitch,velocity" then one row per note (kind "note") and per sustain-pedal
// press (kind "pedal", no pitch or velocity), in time order; times in seconds to the microsecond.
std::string note_events_csv(const Performance& performance);
// {"duration": s, "notes": [{"onset", "offset", "pitch", "velocity"}...],
//  "pedals": [{"onset", "offset"}...]}
std::string note_events_json(const Performance& performance);
// The notes as a piano roll (A0 at the bottom), 50 pixels a second for pieces up to 6 min 40 s,
// narrower beyond so that the picture stays at most 20,000 pixels wide.
std::string piano_roll_png(const Performance& performance);

}  // namespace mlq::transcription
