#pragma once
// The composer's internals (composer.hpp has its interface), shared by its three source files:
// composer.cpp (pieces, sections, bars, the final clean-up), composer_textures.cpp (what the
// hands play) and composer_notes.cpp (pitches, rhythms, dynamics).
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

namespace mlq::transcription::composing {

using Us = int64_t;  // time in microseconds: integer arithmetic keeps every platform in step

inline constexpr int kTicksPerBeat = 24;  // divisible by 2, 3, 4, 6, 8: sixteenths, triplets, 32nds
inline constexpr Us kMinDuration = 45'000;
inline constexpr Us kMaxDuration = 8'000'000;
inline constexpr Us kMinRestrike = 50'000;  // same key, onset to onset
inline constexpr Us kMinPedal = 500'000;
inline constexpr Us kMaxPedal = 4'000'000;
inline constexpr Us kPedalGap = 30'000;

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
inline constexpr std::array<Mode, 7> kModes = {{
    {{0, 2, 4, 5, 7, 9, 11}, 40},  // major
    {{0, 2, 3, 5, 7, 8, 10}, 20},  // natural minor
    {{0, 2, 3, 5, 7, 8, 11}, 15},  // harmonic minor
    {{0, 2, 3, 5, 7, 9, 10}, 8},   // dorian
    {{0, 2, 4, 5, 7, 9, 10}, 7},   // mixolydian
    {{0, 2, 4, 6, 7, 9, 11}, 5},   // lydian
    {{0, 1, 3, 5, 7, 8, 10}, 5},   // phrygian
}};

// Weights of the next chord root (scale degree) after each root: functional progressions.
inline constexpr int kProgression[7][7] = {
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
inline constexpr std::array<int, kTextureCount> kTextureWeights = {30, 10, 14, 12, 12,
                                                                   6,  8,  6,  8,  10};

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
inline constexpr std::array<int, kAccompanimentCount> kAccompanimentWeights = {20, 14, 14, 10,
                                                                               12, 8,  8,  4};

// Note lengths in ticks that fill one beat, and their weights by activity (calm .. busy).
inline const std::vector<std::vector<int>> kSimpleBeats = {
    {24}, {12, 12}, {18, 6}, {12, 6, 6}, {6, 6, 12}, {6, 6, 6, 6}, {8, 8, 8}, {16, 8}};
inline const std::vector<std::vector<int>> kCompoundBeats = {
    {24}, {16, 8}, {8, 8, 8}, {8, 16}, {12, 12}, {4, 4, 8, 8}, {8, 4, 4, 8}, {4, 4, 4, 4, 4, 4}};
inline constexpr int kBeatWeights[4][8] = {
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

}  // namespace mlq::transcription::composing
