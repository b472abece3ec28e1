// Piano pieces from a seed: pieces, sections and bars, and the clean-up that makes every
// performance playable (composer.hpp).
#include "data/composer_detail.hpp"

namespace mlq::transcription::composing {

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

}  // namespace mlq::transcription::composing

namespace mlq::transcription {

using namespace composing;

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
