// What the hands play in a bar: melodies, arpeggios, runs, chords, chorales, atonal material,
// and the pedal.
#include "data/composer_detail.hpp"

namespace mlq::transcription::composing {

// A melodic line: a random walk on the scale, on chord tones at most beats.
// doubling: 0 none, 1 an octave below, 2 a third below, 3 a sixth below.
void Composer::melody(const Bar& bar, int& degree, int lo, int hi, int activity, int accent,
                      int doubling, bool chordal) {
  static constexpr std::array<int, 13> kSteps = {-7, -5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 7};
  static constexpr std::array<int, 13> kStepWeights = {1, 1, 2, 4, 8, 20, 5, 20, 8, 4, 2, 1, 1};
  const int articulation = section_.rh_articulation;
  for (const auto& [tick, length] : rhythm(bar, activity)) {
    if (rng_.chance(0.05)) continue;  // a rest
    const Chord chord = bar.chord_at(tick);
    const bool on_beat = tick % kTicksPerBeat == 0;
    degree += kSteps[rng_.pick(kStepWeights)];
    while (pitch_of(degree) > hi) degree -= 2;
    while (pitch_of(degree) < lo) degree += 2;
    if (on_beat && rng_.chance(0.7)) degree = nearest_chord_degree(degree, chord);
    int pitch = pitch_of(degree);
    if (!on_beat && rng_.chance(0.05)) pitch += rng_.chance(0.5) ? 1 : -1;  // chromatic
    const Us onset = bar.at(tick), span = bar.at(tick + length) - onset;
    const int v = velocity(onset, accent + (tick == 0 ? 6 : on_beat ? 3 : 0));
    if (length >= 12 && rng_.chance(0.04)) {
      trill(onset, span, pitch, pitch_of(degree + 1), v);
      continue;
    }
    play(onset, span, pitch, v, articulation);
    if (doubling == 1) play(onset, span, pitch - 12, v - 6, articulation);
    if (doubling == 2) play(onset, span, pitch_of(degree - 2), v - 6, articulation);
    if (doubling == 3) play(onset, span, pitch_of(degree - 5), v - 6, articulation);
    if (chordal && on_beat && length >= 12) {
      std::vector<int> below = chord_pitches(chord, pitch - 12, pitch - 1);
      const int count = std::min<int>(rng_.range(1, 3), static_cast<int>(below.size()));
      for (int i = 0; i < count; ++i)
        play(onset, span, below[below.size() - 1 - i], v - 10, articulation);
    }
  }
}

void Composer::trill(Us onset, Us span, int pitch, int upper, int velocity) {
  const Us step = std::max<Us>(60'000, std::min<Us>(span / 4, 110'000));
  for (Us t = onset, i = 0; t + kMinDuration <= onset + span; t += step, ++i)
    play(t, step, i % 2 == 0 ? pitch : upper, velocity - (i % 2 == 0 ? 0 : 8), 95);
}

// Broken chords up, down or up and down over the hand's range.
void Composer::arpeggio(const Bar& bar, int lo, int hi, int accent, int articulation) {
  const int sub = fast_subdivision(bar, rng_.range(int64_t{70'000}, int64_t{130'000}));
  const int shape = rng_.range(0, 2);
  for (const auto& [from, to, chord] : bar.segments()) {
    const std::vector<int> pitches = chord_pitches(chord, lo, hi);
    const int n = static_cast<int>(pitches.size());
    if (n < 2) continue;
    const int period = shape == 2 ? 2 * n - 2 : n;
    for (int tick = from, i = 0; tick < to; tick += sub, ++i) {
      const int k = i % period;
      const int index = shape == 0 ? k : shape == 1 ? n - 1 - k : k < n ? k : period - k;
      const Us onset = bar.at(tick);
      play(onset, bar.at(std::min(tick + sub, to)) - onset, pitches[index],
           velocity(onset, accent + (tick % kTicksPerBeat == 0 ? 5 : 0)), articulation);
    }
  }
}

// Fast scales, diatonic or chromatic, turning at the range's ends; maybe in both hands.
void Composer::run(const Bar& bar, int lo, int hi, bool parallel) {
  const int sub = fast_subdivision(bar, rng_.range(int64_t{55'000}, int64_t{90'000}));
  const bool chromatic = rng_.chance(0.12);
  int direction = rng_.chance(0.5) ? 1 : -1;
  int pitch = std::clamp(pitch_of(melody_), lo, hi);
  int degree = melody_;
  for (int tick = 0; tick < bar.ticks(); tick += sub) {
    if (rng_.chance(0.06)) direction = -direction;
    if (chromatic) {
      pitch += direction;
    } else {
      degree += direction;
      pitch = pitch_of(degree);
    }
    if (pitch >= hi || pitch <= lo) direction = pitch >= hi ? -1 : 1;
    const Us onset = bar.at(tick);
    const int v = velocity(onset, tick % kTicksPerBeat == 0 ? 5 : 0);
    play(onset, bar.at(tick + sub) - onset, pitch, v, section_.rh_articulation);
    if (parallel)
      play(onset, bar.at(tick + sub) - onset, pitch - 24, v - 4, section_.rh_articulation);
  }
  melody_ = chromatic ? melody_ : std::clamp(degree, -3, 17);
}

void Composer::repeated_chords(const Bar& bar, int lo, int hi) {
  const int sub = fast_subdivision(bar, rng_.range(int64_t{110'000}, int64_t{250'000}));
  for (const auto& [from, to, chord] : bar.segments()) {
    std::vector<int> pitches = chord_pitches(chord, lo, hi);
    const int count = rng_.range(3, 4);
    if (static_cast<int>(pitches.size()) > count)
      pitches.erase(pitches.begin(),
                    pitches.begin() + rng_.range(0, static_cast<int>(pitches.size()) - count));
    pitches.resize(std::min<size_t>(pitches.size(), count));
    for (int tick = from; tick < to; tick += sub) {
      const Us onset = bar.at(tick);
      play_chord(onset, bar.at(std::min(tick + sub, to)) - onset, pitches,
                 velocity(onset, tick % kTicksPerBeat == 0 ? 4 : -2), section_.rh_articulation);
    }
  }
}

void Composer::accompany(const Bar& bar) {
  const int base = 36 + 12 * section_.lh_octave;  // C2 when not shifted
  const int articulation = section_.lh_articulation;
  const int accent = -8;
  const int eighth = bar.division == 2 ? 12 : 8;
  for (const auto& [from, to, chord] : bar.segments()) {
    const int bass = bass_note(chord, base);
    const std::vector<int> upper = chord_pitches(chord, base + 12, base + 24);
    auto hit = [&](int tick, int until, int pitch, int extra) {
      const Us onset = bar.at(tick);
      play(onset, bar.at(until) - onset, pitch, velocity(onset, accent + extra), articulation);
    };
    switch (section_.accompaniment) {
      case kBlockChords: {
        const int step = rng_.chance(0.5) ? kTicksPerBeat : to - from;
        for (int tick = from; tick < to; tick += step) {
          const int until = std::min(tick + step, to);
          hit(tick, until, bass, 4);
          for (size_t i = 0; i < upper.size() && i < 3; ++i) hit(tick, until, upper[i], 0);
        }
        break;
      }
      case kAlberti: {  // low, high, middle, high
        if (upper.size() < 3) break;
        const int sub =
            bar.beat * eighth / kTicksPerBeat >= 180'000 && rng_.chance(0.3) ? eighth / 2 : eighth;
        const std::array<int, 4> order = {0, 2, 1, 2};
        for (int tick = from, i = 0; tick < to; tick += sub, ++i)
          hit(tick, std::min(tick + sub, to), upper[order[i % 4]], i % 4 == 0 ? 4 : 0);
        break;
      }
      case kBrokenChords: {
        const std::vector<int> tones = chord_pitches(chord, bass, bass + 19);
        for (int tick = from, i = 0; tick < to; tick += eighth, ++i)
          hit(tick, std::min(tick + eighth, to), tones[i % tones.size()], i == 0 ? 4 : 0);
        break;
      }
      case kOomPah: {
        for (int tick = from; tick < to; tick += eighth) {
          const int until = std::min(tick + eighth, to);
          if ((tick - from) % (2 * kTicksPerBeat) == 0) {
            const int fifth = note_at_or_above(pitch_class(chord.root + 4), bass - 12);
            hit(tick, until, tick == from ? bass : fifth, 6);
          } else if (tick % kTicksPerBeat == 0 || bar.division == 3) {
            for (size_t i = 0; i < upper.size() && i < 3; ++i) hit(tick, until, upper[i], -4);
          }
        }
        break;
      }
      case kBassLine: {
        for (int tick = from; tick < to; tick += kTicksPerBeat) {
          if (tick == from) {
            bass_ = nearest_chord_degree(bass_, chord);
          } else {
            bass_ += std::array<int, 4>{-2, -1, 1, 2}[rng_.pick({1, 4, 4, 1})];
          }
          while (pitch_of(bass_) > base + 19) bass_ -= 7;
          while (pitch_of(bass_) < base) bass_ += 7;
          hit(tick, std::min(tick + kTicksPerBeat, to), pitch_of(bass_), tick == from ? 4 : 0);
        }
        break;
      }
      case kOctaves:
        hit(from, to, bass, 6);
        hit(from, to, bass + 12, 2);
        break;
      case kLowArpeggio:
        arpeggio(bar, base - 8, base + 20, accent, articulation);
        return;
      case kNoAccompaniment:
        return;
    }
  }
}

// Four voices moving to the nearest chord tone, one chord per beat or per harmony.
void Composer::chorale(const Bar& bar) {
  const int rh = 12 * section_.rh_octave;
  const std::array<std::pair<int, int>, 4> ranges = {
      {{36, 52}, {48, 64}, {55 + rh, 72 + rh}, {62 + rh, 81 + rh}}};
  const bool per_beat = section_.activity >= 2 || rng_.chance(0.3);
  for (const auto& [from, to, chord] : bar.segments()) {
    const int step = per_beat ? kTicksPerBeat : to - from;
    for (int tick = from; tick < to; tick += step) {
      const Us onset = bar.at(tick), span = bar.at(std::min(tick + step, to)) - onset;
      std::vector<int> voices;
      for (int v = 0; v < 4; ++v) {
        std::vector<int> options = chord_pitches(chord, ranges[v].first, ranges[v].second);
        if (v == 0) options = {bass_note(chord, ranges[0].first)};
        int best = options.front();
        for (int p : options)
          if (std::abs(p - chorale_[v]) < std::abs(best - chorale_[v]) ||
              (p != best && rng_.chance(0.1)))
            best = p;
        if (!voices.empty() && best <= voices.back()) continue;
        chorale_[v] = best;
        voices.push_back(best);
      }
      play_chord(onset, span, voices, velocity(onset, tick % (2 * kTicksPerBeat) == 0 ? 4 : 0),
                 std::max(section_.rh_articulation, 85));
    }
  }
}

// Full chords in both hands: octaves or open fifths below, three to five notes above.
void Composer::big_chords(const Bar& bar) {
  const int rh = 12 * section_.rh_octave;
  const bool per_beat = rng_.chance(0.4);
  for (const auto& [from, to, chord] : bar.segments()) {
    const int step = per_beat ? kTicksPerBeat : to - from;
    for (int tick = from; tick < to; tick += step) {
      const int bass = bass_note(chord, 28 + 12 * section_.lh_octave);
      std::vector<int> pitches = {bass, bass + 12};
      if (rng_.chance(0.4)) pitches.push_back(bass + 7);
      std::vector<int> upper = chord_pitches(chord, 60 + rh, 84 + rh);
      const int room = std::max(0, opt_.max_polyphony - static_cast<int>(pitches.size()));
      const int count = std::min({rng_.range(3, 5), room, static_cast<int>(upper.size())});
      const int first = rng_.range(0, static_cast<int>(upper.size()) - count);
      pitches.insert(pitches.end(), upper.begin() + first, upper.begin() + first + count);
      const Us onset = bar.at(tick);
      play_chord(onset, bar.at(std::min(tick + step, to)) - onset, pitches, velocity(onset, 10),
                 std::max(section_.rh_articulation, 60));
    }
  }
}

// Free atonal material: random pitch sets anywhere in a register window, free rhythm. Keeps
// a model from relying on harmony and covers the extremes of the keyboard.
void Composer::atonal(const Bar& bar) {
  const int lo = rng_.range(21, 72);
  const int hi = std::min(108, lo + rng_.range(12, 40));
  static constexpr std::array<Us, 7> kGaps = {60'000,  90'000,  130'000, 200'000,
                                              300'000, 450'000, 700'000};
  for (Us t = bar.start; t < bar.end(); t += kGaps[rng_.pick({3, 5, 6, 6, 5, 3, 2})]) {
    const int size = opt_.max_polyphony < 2 || rng_.chance(0.5)
                         ? 1
                         : rng_.range(2, std::min(6, opt_.max_polyphony));
    std::vector<int> pitches;
    for (int i = 0; i < size; ++i) {
      const int p = rng_.range(lo, hi);
      if (std::find(pitches.begin(), pitches.end(), p) == pitches.end()) pitches.push_back(p);
    }
    const int v = std::clamp(velocity(t, 0) + rng_.range(-25, 25), 10, 127);
    play_chord(t, rng_.range(int64_t{50'000}, int64_t{1'500'000}), pitches, v, 100);
  }
}

// Pedal presses following the harmony: pressed just after a change, lifted just after the
// next (legato pedalling); in long mode held over several changes.
void Composer::add_pedal(const std::vector<Us>& changes) {
  const Us target =
      section_.pedal == 2 ? rng_.range(int64_t{1'500'000}, int64_t{3'500'000}) : kMinPedal;
  size_t i = 0;
  while (i + 1 < changes.size()) {
    size_t j = i + 1;
    while (j + 1 < changes.size() && changes[j] - changes[i] < target) ++j;
    const Us down = changes[i] + rng_.range(int64_t{60'000}, int64_t{150'000});
    const Us up = std::min(changes[j] + rng_.range(int64_t{0}, int64_t{20'000}), down + kMaxPedal);
    if (up - down >= kMinPedal) pedals_.emplace_back(down, up);
    i = j;
  }
}

}  // namespace mlq::transcription::composing
