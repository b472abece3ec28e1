#include "data/composer.hpp"
#include "mlq/plugin_base.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

namespace mlq::transcription {
namespace {

using Us = int64_t;  // time in microseconds: integer arithmetic keeps every platform in step

constexpr int kTicksPerBeat = 24;  // divisible by 2, 3, 4, 6, 8: sixteenths, triplets, 32nds
constexpr Us kMinDuration = 45'000;
constexpr Us kMaxDuration = 8'000'000;
constexpr Us kMinRestrike = 50'000;  // same key, onset to onset
constexpr Us kMinPedal = 500'000;
constexpr Us kMaxPedal = 4'000'000;
constexpr Us kPedalGap = 30'000;

// xoshiro256** seeded through splitmix64. Never std:: distributions: their algorithms differ
// between standard libraries.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (uint64_t& s : s_) s = splitmix64(seed);
  }

  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [lo, hi]; the modulo bias is below 1e-12 for these small ranges.
  int64_t range(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(next() % static_cast<uint64_t>(hi - lo + 1));
  }
  int range(int lo, int hi) { return static_cast<int>(range(int64_t{lo}, int64_t{hi})); }

  // True with probability p (53 random bits times 2^-53 is exact).
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

  // An index drawn with probability proportional to its (non-negative, not all zero) weight.
  template <typename Weights>
  int pick(const Weights& weights) {
    int total = 0;
    for (int w : weights) total += w;
    int r = range(0, total - 1);
    int index = 0;
    for (int w : weights) {
      if (r < w) return index;
      r -= w;
      ++index;
    }
    return index - 1;
  }
  int pick(std::initializer_list<int> weights) { return pick<>(weights); }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::array<uint64_t, 4> s_{};
};

struct Mode {
  std::array<int, 7> steps;
  int weight;
};
constexpr std::array<Mode, 7> kModes = {{
    {{0, 2, 4, 5, 7, 9, 11}, 40},  // major
    {{0, 2, 3, 5, 7, 8, 10}, 20},  // natural minor
    {{0, 2, 3, 5, 7, 8, 11}, 15},  // harmonic minor
    {{0, 2, 3, 5, 7, 9, 10}, 8},   // dorian
    {{0, 2, 4, 5, 7, 9, 10}, 7},   // mixolydian
    {{0, 2, 4, 6, 7, 9, 11}, 5},   // lydian
    {{0, 1, 3, 5, 7, 8, 10}, 5},   // phrygian
}};

// Weights of the next chord root (scale degree) after each root: functional progressions.
constexpr int kProgression[7][7] = {
    // I ii iii IV V vi vii
    {2, 6, 3, 10, 10, 7, 2},  // I
    {1, 0, 1, 3, 10, 1, 4},   // ii
    {1, 2, 0, 5, 2, 8, 1},    // iii
    {8, 4, 1, 0, 10, 2, 3},   // IV
    {12, 1, 1, 3, 0, 5, 1},   // V
    {2, 7, 2, 7, 5, 0, 1},    // vi
    {10, 0, 3, 0, 2, 2, 0},   // vii
};

// Right-hand figures over a left-hand accompaniment, then textures for both hands.
enum Texture {
  kMelody,
  kDoubledMelody,
  kChordalMelody,
  kArpeggio,
  kRun,
  kRepeatedChords,
  kChorale,
  kBigChords,
  kCounterpoint,
  kAtonal,
  kTextureCount
};
constexpr std::array<int, kTextureCount> kTextureWeights = {30, 10, 14, 12, 12, 6, 8, 6, 8, 10};

enum Accompaniment {
  kBlockChords,
  kAlberti,
  kBrokenChords,
  kOomPah,
  kBassLine,
  kOctaves,
  kLowArpeggio,
  kNoAccompaniment,
  kAccompanimentCount
};
constexpr std::array<int, kAccompanimentCount> kAccompanimentWeights = {20, 14, 14, 10,
                                                                        12, 8,  8,  4};

// Note lengths in ticks that fill one beat, and their weights by activity (calm .. busy).
const std::vector<std::vector<int>> kSimpleBeats = {{24},       {12, 12},     {18, 6},   {12, 6, 6},
                                                    {6, 6, 12}, {6, 6, 6, 6}, {8, 8, 8}, {16, 8}};
const std::vector<std::vector<int>> kCompoundBeats = {
    {24}, {16, 8}, {8, 8, 8}, {8, 16}, {12, 12}, {4, 4, 8, 8}, {8, 4, 4, 8}, {4, 4, 4, 4, 4, 4}};
constexpr int kBeatWeights[4][8] = {
    {10, 4, 2, 0, 0, 0, 1, 1},
    {6, 10, 3, 2, 2, 1, 2, 2},
    {3, 8, 3, 4, 4, 4, 3, 2},
    {1, 4, 2, 4, 4, 10, 4, 1},
};

struct Chord {
  int root = 0;  // scale degree 0..6
  bool seventh = false;
};

struct Bar {
  Us start = 0;
  Us beat = 0;       // microseconds per beat
  int beats = 4;     // per bar
  int division = 2;  // 2: simple meter (beat = quarter), 3: compound (beat = dotted quarter)
  std::vector<std::pair<int, Chord>> harmony;  // (tick, chord), the first at tick 0

  int ticks() const { return beats * kTicksPerBeat; }
  Us at(int tick) const { return start + beat * tick / kTicksPerBeat; }
  Us end() const { return at(ticks()); }
  // The harmony segments as (start tick, end tick, chord).
  std::vector<std::tuple<int, int, Chord>> segments() const {
    std::vector<std::tuple<int, int, Chord>> result;
    for (size_t i = 0; i < harmony.size(); ++i)
      result.emplace_back(harmony[i].first, i + 1 < harmony.size() ? harmony[i + 1].first : ticks(),
                          harmony[i].second);
    return result;
  }
  Chord chord_at(int tick) const {
    Chord chord = harmony.front().second;
    for (const auto& [t, c] : harmony)
      if (t <= tick) chord = c;
    return chord;
  }
};

// What stays the same for a few bars.
struct Section {
  int texture = kMelody;
  int accompaniment = kBlockChords;
  int bars = 1;
  Us start = 0, end = 0;  // end as planned, for the dynamics
  int velocity_from = 64, velocity_to = 64;
  int rh_articulation = 80, lh_articulation = 80;  // sounding length, % of the time to the next
  int rh_octave = 0, lh_octave = 0;                // register shift of each hand
  int activity = 1;                                // 0 calm .. 3 busy
  bool rolled_chords = false;
  int pedal = 0;  // 0 none, 1 change with the harmony, 2 long presses
};

int note_at_or_above(int pitch_class, int lo);

struct Raw {
  Us onset, duration;
  int pitch, velocity;
};

class Composer {
 public:
  Composer(uint64_t seed, const ComposerOptions& options) : rng_(seed), opt_(options) {}
  Performance compose();

 private:
  void choose_piece();
  void choose_section(Us start);
  Bar make_bar(Us start);
  void play_bar(const Bar& bar);
  void add_pedal(const std::vector<Us>& changes);
  Performance finish();

  void melody(const Bar& bar, int& degree, int lo, int hi, int activity, int accent, int doubling,
              bool chordal);
  void trill(Us onset, Us span, int pitch, int upper, int velocity);
  void arpeggio(const Bar& bar, int lo, int hi, int accent, int articulation);
  void run(const Bar& bar, int lo, int hi, bool parallel);
  void repeated_chords(const Bar& bar, int lo, int hi);
  void accompany(const Bar& bar);
  void chorale(const Bar& bar);
  void big_chords(const Bar& bar);
  void atonal(const Bar& bar);

  int pitch_of(int degree) const;
  int pitch_class(int degree) const;
  int chord_mask(Chord chord) const;
  std::vector<int> chord_pitches(Chord chord, int lo, int hi) const;
  int bass_note(Chord chord, int lo) const;
  int nearest_chord_degree(int degree, Chord chord) const;
  Chord next_chord();
  std::vector<std::pair<int, int>> rhythm(const Bar& bar, int activity);
  int fast_subdivision(const Bar& bar, Us min_ioi);
  int velocity(Us when, int accent);
  void play(Us onset, Us span, int pitch, int velocity, int articulation);
  void play_chord(Us onset, Us span, const std::vector<int>& pitches, int velocity,
                  int articulation);

  Rng rng_;
  ComposerOptions opt_;
  Us end_ = 0;
  int tonic_ = 0, mode_ = 0, beats_ = 4, division_ = 2;
  Us beat_ = 500'000, min_beat_ = 0, max_beat_ = 0;
  std::array<int, kTextureCount> texture_weights_{};
  std::array<int, kAccompanimentCount> accompaniment_weights_{};
  bool uses_pedal_ = false, rubato_ = false;
  Us jitter_ = 0, spread_ = 0;
  int velocity_jitter_ = 4, piece_activity_ = 1;
  Chord chord_;
  int melody_ = 7, alto_ = 2, bass_ = -9;       // melodic lines, in scale degrees
  std::array<int, 4> chorale_{48, 55, 64, 72};  // last bass, tenor, alto, soprano
  Section section_;
  std::vector<Raw> notes_;
  std::vector<std::pair<Us, Us>> pedals_;
};

Performance Composer::compose() {
  end_ = std::llround(opt_.duration_seconds * 1e6);
  choose_piece();
  Us t = rng_.range(int64_t{0}, int64_t{400'000});
  while (t < end_) {
    choose_section(t);
    std::vector<Us> changes;
    for (int b = 0; b < section_.bars && t < end_; ++b) {
      const Bar bar = make_bar(t);
      for (const auto& [tick, chord] : bar.harmony) changes.push_back(bar.at(tick));
      play_bar(bar);
      t = bar.end();
    }
    changes.push_back(t);
    if (section_.pedal != 0) add_pedal(changes);
    if (rng_.chance(0.1)) t += beat_ * rng_.range(1, 4);  // a rest
  }
  return finish();
}

void Composer::choose_piece() {
  tonic_ = rng_.range(0, 11);
  std::array<int, kModes.size()> mode_weights{};
  for (size_t i = 0; i < kModes.size(); ++i) mode_weights[i] = kModes[i].weight;
  mode_ = rng_.pick(mode_weights);
  // 4/4, 3/4, 2/4, 5/4, 6/8, 9/8, 12/8
  static constexpr std::array<std::pair<int, int>, 7> kMeters = {
      {{4, 2}, {3, 2}, {2, 2}, {5, 2}, {2, 3}, {3, 3}, {4, 3}}};
  std::tie(beats_, division_) = kMeters[rng_.pick({40, 25, 10, 4, 12, 4, 5})];
  // Tempo in beats per minute: quarters 56..168, dotted quarters 40..116.
  const int bpm = division_ == 2 ? rng_.range(56, 168) : rng_.range(40, 116);
  beat_ = 60'000'000 / bpm;
  min_beat_ = division_ == 2 ? 60'000'000 / 176 : 60'000'000 / 120;
  max_beat_ = division_ == 2 ? 60'000'000 / 50 : 60'000'000 / 36;
  // The piece's style: each texture's weight scaled by 0..3, so some never occur.
  for (int i = 0; i < kTextureCount; ++i)
    texture_weights_[i] = kTextureWeights[i] * rng_.pick({2, 3, 3, 2});
  for (int i = 0; i < kAccompanimentCount; ++i)
    accompaniment_weights_[i] = kAccompanimentWeights[i] * rng_.pick({2, 3, 3, 2});
  texture_weights_[kMelody] += 1;
  accompaniment_weights_[kBlockChords] += 1;
  uses_pedal_ = rng_.chance(opt_.pedal_probability);
  rubato_ = rng_.chance(0.3);
  // Timing noise: of each chord or note as a whole, and of the notes within a chord.
  jitter_ = std::array<Us, 5>{0, 3'000, 6'000, 12'000, 20'000}[rng_.pick({20, 25, 25, 20, 10})];
  spread_ = std::array<Us, 4>{0, 2'000, 5'000, 10'000}[rng_.pick({40, 20, 25, 15})];
  velocity_jitter_ = rng_.range(2, 10);
  piece_activity_ = rng_.range(0, 3);
  melody_ = rng_.range(3, 10);
}

void Composer::choose_section(Us start) {
  Section& s = section_;
  s.texture = rng_.pick(texture_weights_);
  s.accompaniment = rng_.pick(accompaniment_weights_);
  if (rng_.chance(0.15))
    beat_ = std::clamp(beat_ * rng_.range(85, 115) / 100, min_beat_, max_beat_);
  if (rng_.chance(0.07)) {  // modulate to a related key
    tonic_ = (tonic_ + std::array<int, 4>{5, 7, 3, 9}[rng_.range(0, 3)]) % 12;
    if (rng_.chance(0.3)) mode_ = rng_.range(0, 2);
  }
  s.bars = s.texture == kRun ? rng_.range(1, 2) : rng_.range(1, 4);
  s.start = start;
  s.end = start + s.bars * beats_ * beat_;
  static constexpr std::array<int, 8> kLevels = {20, 32, 45, 58, 72, 86, 100, 114};
  static constexpr std::array<int, 8> kLevelWeights = {3, 8, 12, 16, 16, 14, 10, 5};
  s.velocity_from = kLevels[rng_.pick(kLevelWeights)];
  s.velocity_to = rng_.chance(0.4) ? kLevels[rng_.pick(kLevelWeights)] : s.velocity_from;
  auto articulation = [&] {
    switch (rng_.pick({15, 45, 40})) {
      case 0:
        return rng_.range(20, 45);  // staccato
      case 1:
        return rng_.range(60, 90);  // detached
      default:
        return rng_.range(92, 115);  // legato, overlapping a little
    }
  };
  s.rh_articulation = articulation();
  s.lh_articulation = articulation();
  s.rh_octave = rng_.pick({15, 70, 15}) - 1;
  s.lh_octave = rng_.pick({20, 70, 10}) - 1;
  s.activity = std::clamp(piece_activity_ + rng_.range(-1, 1), 0, 3);
  s.rolled_chords = rng_.chance(0.1);
  s.pedal = uses_pedal_ ? rng_.pick({30, 55, 15}) : 0;
}

Bar Composer::make_bar(Us start) {
  Bar bar;
  bar.start = start;
  bar.beat = rubato_ ? beat_ * rng_.range(96, 104) / 100 : beat_;
  bar.beats = beats_;
  bar.division = division_;
  switch (rng_.pick({55, 35, 10})) {  // harmonic rhythm: per bar, per half bar, per beat
    case 0:
      bar.harmony = {{0, next_chord()}};
      break;
    case 1:
      bar.harmony = {{0, next_chord()}};
      if (beats_ >= 2) bar.harmony.push_back({(beats_ + 1) / 2 * kTicksPerBeat, next_chord()});
      break;
    default:
      for (int b = 0; b < beats_; ++b) bar.harmony.push_back({b * kTicksPerBeat, next_chord()});
  }
  return bar;
}

Chord Composer::next_chord() {
  chord_.root = rng_.pick(kProgression[chord_.root]);
  chord_.seventh = rng_.chance(chord_.root == 4 ? 0.4 : 0.15);
  return chord_;
}

void Composer::play_bar(const Bar& bar) {
  const Section& s = section_;
  const int rh = 12 * s.rh_octave;
  switch (s.texture) {
    case kChorale:
      chorale(bar);
      return;
    case kBigChords:
      big_chords(bar);
      return;
    case kAtonal:
      atonal(bar);
      return;
    case kCounterpoint:
      melody(bar, melody_, 67 + rh, 88 + rh, s.activity, 6, 0, false);
      melody(bar, alto_, 55 + rh, 72 + rh, std::max(0, s.activity - 1), 0, 0, false);
      if (rng_.chance(0.6)) melody(bar, bass_, 38, 57, std::max(0, s.activity - 1), -4, 0, false);
      return;
    case kMelody:
      melody(bar, melody_, 62 + rh, 86 + rh, s.activity, 8, 0, false);
      break;
    case kDoubledMelody:
      melody(bar, melody_, 64 + rh, 86 + rh, s.activity, 8, rng_.range(1, 3), false);
      break;
    case kChordalMelody:
      melody(bar, melody_, 64 + rh, 88 + rh, s.activity, 8, 0, true);
      break;
    case kArpeggio:
      arpeggio(bar, 52 + rh, 88 + rh, 4, s.rh_articulation);
      break;
    case kRun:
      if (rng_.chance(0.3)) {  // in both hands, two octaves apart
        run(bar, 55 + rh, 96 + rh, true);
        return;
      }
      run(bar, 55 + rh, 96 + rh, false);
      break;
    case kRepeatedChords:
      repeated_chords(bar, 60 + rh, 80 + rh);
      break;
  }
  accompany(bar);
}

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

// Humanises the timing, then enforces the guarantees of compose_piece(), in time order.
Performance Composer::finish() {
  auto by_onset = [](const Raw& a, const Raw& b) {
    return std::tie(a.onset, a.pitch, a.duration, a.velocity) <
           std::tie(b.onset, b.pitch, b.duration, b.velocity);
  };
  std::sort(notes_.begin(), notes_.end(), by_onset);
  Us chord_onset = -1, shift = 0;
  for (Raw& n : notes_) {
    if (n.onset != chord_onset) {
      chord_onset = n.onset;
      shift = jitter_ > 0 ? rng_.range(-jitter_, jitter_) : 0;
    }
    n.onset = std::max<Us>(0, n.onset + shift + (spread_ > 0 ? rng_.range(-spread_, spread_) : 0));
    while (n.pitch < opt_.min_pitch) n.pitch += 12;
    while (n.pitch > opt_.max_pitch) n.pitch -= 12;
  }
  std::sort(notes_.begin(), notes_.end(), by_onset);

  struct Kept {
    Us onset, offset;
    int pitch, velocity;
  };
  std::vector<Kept> kept;
  std::array<int, 128> last{};  // index in `kept` of each key's latest note, -1 if none
  last.fill(-1);
  std::vector<size_t> down;  // keys held at the current onset
  for (const Raw& n : notes_) {
    if (n.onset > end_ - kMinDuration) continue;
    if (last[n.pitch] >= 0) {
      Kept& previous = kept[last[n.pitch]];
      if (n.onset - previous.onset < kMinRestrike) continue;
      previous.offset = std::min(previous.offset, n.onset);
    }
    down.erase(std::remove_if(down.begin(), down.end(),
                              [&](size_t i) { return kept[i].offset <= n.onset; }),
               down.end());
    bool dropped = false;
    while (!dropped && static_cast<int>(down.size()) >= opt_.max_polyphony) {
      auto oldest = std::min_element(down.begin(), down.end(), [&](size_t a, size_t b) {
        return kept[a].onset < kept[b].onset;
      });
      if (n.onset - kept[*oldest].onset < kMinDuration) {
        dropped = true;
      } else {
        kept[*oldest].offset = n.onset;
        down.erase(oldest);
      }
    }
    if (dropped) continue;
    last[n.pitch] = static_cast<int>(kept.size());
    down.push_back(kept.size());
    kept.push_back({n.onset, std::min(n.onset + n.duration, end_), n.pitch, n.velocity});
  }
  std::sort(kept.begin(), kept.end(), [](const Kept& a, const Kept& b) {
    return std::tie(a.onset, a.pitch) < std::tie(b.onset, b.pitch);
  });

  std::sort(pedals_.begin(), pedals_.end());
  std::vector<std::pair<Us, Us>> pedals;
  for (auto [down_at, up_at] : pedals_) {
    up_at = std::min({up_at, end_, down_at + kMaxPedal});
    if (!pedals.empty() && pedals.back().second > down_at - kPedalGap) {
      pedals.back().second = down_at - kPedalGap;
      if (pedals.back().second - pedals.back().first < kMinPedal) pedals.pop_back();
    }
    if (up_at - down_at >= kMinPedal) pedals.emplace_back(down_at, up_at);
  }

  auto seconds = [](Us t) { return static_cast<double>(t) / 1e6; };
  Performance performance;
  Us last_end = 0;
  for (const Kept& k : kept) {
    performance.notes.push_back({seconds(k.onset), seconds(k.offset), k.pitch, k.velocity});
    last_end = std::max(last_end, k.offset);
  }
  for (const auto& [down_at, up_at] : pedals) {
    performance.pedals.push_back({seconds(down_at), seconds(up_at)});
    last_end = std::max(last_end, up_at);
  }
  performance.duration = seconds(last_end);
  return performance;
}

}  // namespace

uint64_t piece_seed(uint64_t seed, uint64_t index) {
  uint64_t state = seed;
  uint64_t mixed = splitmix64(state) ^ index;
  return splitmix64(mixed);
}

Performance compose_piece(uint64_t seed, const ComposerOptions& options) {
  const std::string where = "composer: ";
  if (!(options.duration_seconds > 0 && options.duration_seconds <= 24 * 3600))
    throw UserError(where + "duration_seconds must be in (0, 86400], got " +
                    std::to_string(options.duration_seconds));
  if (options.max_polyphony < 1)
    throw UserError(where + "max_polyphony must be at least 1, got " +
                    std::to_string(options.max_polyphony));
  if (!(options.pedal_probability >= 0 && options.pedal_probability <= 1))
    throw UserError(where + "pedal_probability must be in [0, 1], got " +
                    std::to_string(options.pedal_probability));
  if (options.min_pitch < 0 || options.max_pitch > 127 ||
      options.max_pitch - options.min_pitch < 12)
    throw UserError(where + "pitch range must lie in 0..127 and span an octave or more, got " +
                    std::to_string(options.min_pitch) + ".." + std::to_string(options.max_pitch));
  return Composer(seed, options).compose();
}

}  // namespace mlq::transcription
