#pragma once
// Procedurally composed piano pieces: the synthetic training data of the transcription plugin.
#include <cstdint>

#include "data/notes.hpp"

namespace mlq::transcription {

struct ComposerOptions {
  double duration_seconds = 30;    // the piece ends at or before this time
  int max_polyphony = 10;          // keys held down at once (the sustain pedal does not count)
  double pedal_probability = 0.5;  // chance that a piece uses the sustain pedal at all
  int min_pitch = 21;              // MIDI key range, at least an octave wide
  int max_pitch = 108;
};

// The seed of piece `index` of a data set seeded with `seed` (splitmix64 mixing of both).
uint64_t piece_seed(uint64_t seed, uint64_t index);

// A piece of tonal (and some atonal) piano music in a random key, mode, meter and tempo, made
// of sections of melodies with accompaniment, scales, arpeggios, chorales, big chords and
// counterpoint, with dynamics, articulation, timing jitter and (sometimes) the sustain pedal.
// The result is a function of `seed` and `options` alone, identical on every platform: the
// composer uses its own generator and integer arithmetic (microseconds) throughout.
// Guarantees: pitches within [min_pitch, max_pitch]; velocities 1..127; every note at least
// 45 ms long and at most 8 s; a key is struck again no sooner than 50 ms after its last onset
// and never while it is still held; at most max_polyphony keys down at any instant; pedal
// presses 0.5..4 s long and 30 ms or more apart; everything ends by duration_seconds.
// Throws mlq::UserError for invalid options.
Performance compose_piece(uint64_t seed, const ComposerOptions& options = {});

}  // namespace mlq::transcription
