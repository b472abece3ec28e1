#pragma once
// Standard MIDI Files (SMF) to and from the transcription data model.
//
// Reading (format 0 and 1):
// - All tracks are merged by absolute tick; the tempo map (set-tempo events from any track, last
//   one wins at a tick) converts ticks to seconds piecewise. 120 bpm until the first tempo event.
// - Note-on with velocity 0 is a note-off. Running status is honoured, also across meta and sysex
//   events (which the standard says cancel it, but which files in the wild rely on).
// - Overlapping notes of one pitch are paired first-in first-out per (track, channel, pitch): a
//   note-off closes the earliest open note, so every note-on gives a note and files from
//   midi_bytes() read back unchanged. (The bytedance reference instead drops the earlier note when
//   a pitch is struck again while open; pretty_midi ends all open notes of the pitch at the first
//   note-off.) Note-offs with no open note are ignored.
// - Sustain pedal: CC64 >= 64 is down, < 64 up, tracked per channel like a synthesiser does;
//   repeated downs or ups are ignored (as in the reference). The presses of all channels are merged
//   into one list (overlapping presses become one).
// - Notes and presses still open at the end close at `duration`, the time of the last event of any
//   track (end-of-track included).
//
// Writing: format 1 with a tempo track and one piano track (the MAESTRO layout, which the
// reference's read_midi expects), 480 ticks per quarter, 120 bpm unless told otherwise (one tick
// is then 1/960 s); times are rounded to the nearest tick and notes and presses last at least one
// tick. The tempo changes only how the file reads in a score editor, not when notes sound.
#include <filesystem>
#include <string>
#include <vector>

#include "data/notes.hpp"

namespace mlq::transcription {

// Parses SMF bytes. Throws mlq::UserError with one line "<name>: <what was wrong>" for anything
// that is not a well-formed format 0 or 1 file (truncation, garbage, SMPTE time, format 2, ...).
Performance parse_midi(const std::string& bytes, const std::string& name);
// parse_midi() of a file; unreadable files are a UserError too.
Performance read_midi(const std::filesystem::path& path);

// The SMF bytes of a performance (see above). Throws std::invalid_argument for values a MIDI file
// cannot hold: pitch or velocity out of range (velocity 1..127), negative or non-finite times,
// offsets before onsets, times beyond about 77 hours (at 120 bpm), a tempo outside
// kMinBpm..kMaxBpm.
inline constexpr double kMinBpm = 10;
inline constexpr double kMaxBpm = 1000;
std::string midi_bytes(const Performance& performance, double bpm = 120);
// midi_bytes() written atomically (readers never see a half-written file).
void write_midi(const std::filesystem::path& path, const Performance& performance,
                double bpm = 120);

// Sustain-pedal extension as in the bytedance piano_transcription reference (Kong et al. 2021,
// utils/utilities.py, TargetProcessor.extend_pedal): a note released while the pedal is down
// (strictly between press and release) lasts until the release, except that a note of the same
// pitch released, and so extended, within the same press cuts the earlier one at its onset. See
// the definition for the reference's quirks, which are kept. Returns notes sorted by (onset,
// pitch).
std::vector<Note> extend_offsets_by_pedal(std::vector<Note> notes,
                                          const std::vector<Pedal>& pedals);

}  // namespace mlq::transcription
