// Pitches from scale degrees and chords, rhythms, dynamics, and one played note.
#include "data/composer_detail.hpp"

namespace mlq::transcription::composing {

int Composer::pitch_of(int degree) const {
  const int octave = degree >= 0 ? degree / 7 : -((6 - degree) / 7);
  return 60 + tonic_ + 12 * octave + kModes[mode_].steps[degree - 7 * octave];
}

int Composer::pitch_class(int degree) const {
  return (tonic_ + kModes[mode_].steps[degree % 7]) % 12;
}

int Composer::chord_mask(Chord chord) const {
  int mask = 0;
  for (int k : {0, 2, 4, 6})
    if (k < 6 || chord.seventh) mask |= 1 << pitch_class(chord.root + k);
  return mask;
}

std::vector<int> Composer::chord_pitches(Chord chord, int lo, int hi) const {
  const int mask = chord_mask(chord);
  std::vector<int> result;
  for (int p = std::max(lo, 0); p <= hi; ++p)
    if (mask & (1 << (p % 12))) result.push_back(p);
  return result;
}

int note_at_or_above(int pitch_class, int lo) {
  lo = std::max(lo, 0);
  return lo + (pitch_class - lo % 12 + 12) % 12;
}

int Composer::bass_note(Chord chord, int lo) const {
  return note_at_or_above(pitch_class(chord.root), lo);
}

int Composer::nearest_chord_degree(int degree, Chord chord) const {
  for (int d : {0, -1, 1, -2, 2, -3, 3}) {
    const int interval = ((degree + d - chord.root) % 7 + 7) % 7;
    if (interval == 0 || interval == 2 || interval == 4 || (chord.seventh && interval == 6))
      return degree + d;
  }
  return degree;
}

// (tick, length) of the notes of one bar of a melody.
std::vector<std::pair<int, int>> Composer::rhythm(const Bar& bar, int activity) {
  const auto& patterns = bar.division == 2 ? kSimpleBeats : kCompoundBeats;
  std::vector<std::pair<int, int>> notes;
  for (int beat = 0; beat < bar.beats;) {
    const int tick = beat * kTicksPerBeat;
    if (activity == 0 && bar.beats - beat >= 2 && rng_.chance(0.4)) {
      const int length = rng_.chance(0.3) && beat == 0 ? bar.beats : 2;
      notes.emplace_back(tick, length * kTicksPerBeat);
      beat += length;
      continue;
    }
    std::vector<int> pattern = patterns[rng_.pick(kBeatWeights[activity])];
    if (bar.beat * *std::min_element(pattern.begin(), pattern.end()) / kTicksPerBeat < 70'000)
      pattern = {kTicksPerBeat / 2, kTicksPerBeat / 2};
    int offset = 0;
    for (int length : pattern) {
      notes.emplace_back(tick + offset, length);
      offset += length;
    }
    ++beat;
  }
  return notes;
}

// The finest subdivision (in ticks) whose notes are at least min_ioi apart, often one coarser.
int Composer::fast_subdivision(const Bar& bar, Us min_ioi) {
  static const std::vector<int> kSimple = {3, 4, 6, 8, 12, 24};
  static const std::vector<int> kCompound = {2, 4, 8, 12, 24};
  const auto& candidates = bar.division == 2 ? kSimple : kCompound;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (bar.beat * candidates[i] / kTicksPerBeat < min_ioi) continue;
    if (i + 1 < candidates.size() && rng_.chance(0.35)) return candidates[i + 1];
    return candidates[i];
  }
  return candidates.back();
}

// The section's dynamic (with its crescendo or diminuendo) at `when`, plus accent and noise.
int Composer::velocity(Us when, int accent) {
  const Section& s = section_;
  const Us span = std::max<Us>(1, s.end - s.start);
  const Us position = std::clamp<Us>(when - s.start, 0, span);
  const Us level = s.velocity_from + (s.velocity_to - s.velocity_from) * position / span;
  return std::clamp(
      static_cast<int>(level) + accent + rng_.range(-velocity_jitter_, velocity_jitter_), 1, 127);
}

void Composer::play(Us onset, Us span, int pitch, int velocity, int articulation) {
  const Us duration = std::clamp<Us>(span * articulation / 100, kMinDuration, kMaxDuration);
  notes_.push_back({onset, duration, pitch, std::clamp(velocity, 1, 127)});
}

void Composer::play_chord(Us onset, Us span, const std::vector<int>& pitches, int velocity,
                          int articulation) {
  const Us roll = section_.rolled_chords ? rng_.range(int64_t{15'000}, int64_t{40'000}) : 0;
  for (size_t i = 0; i < pitches.size(); ++i)
    play(onset + roll * static_cast<Us>(i), span, pitches[i], velocity + rng_.range(-3, 3),
         articulation);
}

}  // namespace mlq::transcription::composing
