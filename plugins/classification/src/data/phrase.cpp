#include "data/phrase.hpp"

#include <algorithm>

namespace mlq::classification {
namespace {

// Up to the phrase's end, leaving the last 0.2 s of the clip for the release.
void add(Performance& p, double onset, double length, int pitch, int velocity, double end) {
  const double offset = std::min(onset + length, end);
  if (offset - onset < 0.05) return;
  p.notes.push_back({onset, offset, std::clamp(pitch, 0, 127), std::clamp(velocity, 1, 127)});
}

}  // namespace

Phrase compose_phrase(const Family& family, uint64_t seed, double clip_seconds) {
  SplitMix64 rng(seed);
  Phrase phrase;
  phrase.program =
      family.programs[rng.integer(0, static_cast<int64_t>(family.programs.size()) - 1)];
  Performance& p = phrase.performance;
  const double end = std::max(0.3, clip_seconds - 0.2);
  const int velocity = static_cast<int>(rng.integer(40, 120));
  auto vary = [&] { return velocity + static_cast<int>(rng.integer(-10, 10)); };
  int pitch = static_cast<int>(rng.integer(family.low_pitch, family.high_pitch));
  double t = rng.uniform(0, 0.3);
  switch (rng.integer(0, 3)) {
    case 0:  // one held note
      add(p, t, rng.uniform(0.6, end), pitch, vary(), end);
      break;
    case 1:  // a staccato run
      for (int64_t n = rng.integer(3, 7); n > 0 && t < end; --n) {
        add(p, t, rng.uniform(0.06, 0.2), pitch, vary(), end);
        t += rng.uniform(0.15, 0.32);
        pitch = std::clamp(pitch + static_cast<int>(rng.integer(-5, 5)), family.low_pitch,
                           family.high_pitch);
      }
      break;
    case 2:  // a legato line
      for (int64_t n = rng.integer(2, 4); n > 0 && t < end; --n) {
        const double length = rng.uniform(0.3, 0.7);
        add(p, t, length + 0.02, pitch, vary(), end);
        t += length;
        pitch = std::clamp(pitch + static_cast<int>(rng.integer(-4, 4)), family.low_pitch,
                           family.high_pitch);
      }
      break;
    default: {  // chords: a root and one or two notes above it, struck once or twice
      static const int kIntervals[] = {3, 4, 5, 7, 12};
      std::vector<int> chord{std::min(pitch, family.high_pitch - 7)};
      for (int64_t n = rng.integer(1, 2); n > 0; --n)
        chord.push_back(chord.back() + kIntervals[rng.integer(0, 4)]);
      for (int64_t strikes = rng.integer(1, 2); strikes > 0 && t < end; --strikes) {
        const double length = rng.uniform(0.4, 1.2);
        for (int key : chord) add(p, t, length, key, vary(), end);
        t += length + rng.uniform(0.05, 0.2);
      }
      break;
    }
  }
  std::sort(p.notes.begin(), p.notes.end(), [](const Note& a, const Note& b) {
    return a.onset != b.onset ? a.onset < b.onset : a.pitch < b.pitch;
  });
  for (const Note& note : p.notes) p.duration = std::max(p.duration, note.offset);
  return phrase;
}

}  // namespace mlq::classification
