#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "data/targets.hpp"
#include "eval/postprocess.hpp"
#include "mlq/util/random.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using mlq::test::run_process;
using mlq::test::TempDir;
using mlq::test::write_file;
using mlq::transcription::find_peaks;
using mlq::transcription::make_targets;
using mlq::transcription::ModelOutputs;
using mlq::transcription::Note;
using mlq::transcription::Peaks;
using mlq::transcription::Pedal;
using mlq::transcription::postprocess;
using mlq::transcription::SegmentTargets;
using mlq::transcription::Transcription;

namespace {

const std::string kReference =
    std::string(MLQ_SOURCE_DIR) + "/tests/transcription/targets_reference.py";

// Seeded, the same everywhere.
struct Rng : mlq::SplitMix64 {
  using SplitMix64::SplitMix64;
  int integer(int low, int high) { return static_cast<int>(SplitMix64::integer(low, high)); }
};

// Outputs of one key (A0) over `frames` frames, all zero, with or without pedal outputs.
ModelOutputs one_key(int frames, bool pedal = false) {
  ModelOutputs out;
  out.frames = frames;
  out.classes = 1;
  out.reg_onset.assign(frames, 0);
  out.reg_offset.assign(frames, 0);
  out.frame.assign(frames, 0);
  out.velocity.assign(frames, 0);
  if (pedal) {
    out.reg_pedal_offset.assign(frames, 0);
    out.pedal_frame.assign(frames, 0);
  }
  return out;
}

// A perfect regression target around an event `shift` seconds after `frame`, as make_targets
// draws it (100 fps).
void triangle(std::vector<float>& curve, int frame, double shift) {
  for (int t = std::max(frame - 6, 0); t <= std::min(frame + 6, int(curve.size()) - 1); ++t) {
    const double g = 1.0 - std::min(std::abs((t - frame) * 0.01 - shift), 0.05) * 20;
    curve[t] = std::max(curve[t], static_cast<float>(g));
  }
}

void fill(std::vector<float>& curve, int from, int to, float value) {
  for (int t = from; t <= to; ++t) curve[t] = value;
}

// Our notes grouped by key, each key's in onset order.
std::map<int, std::vector<Note>> by_key(const std::vector<Note>& notes) {
  std::map<int, std::vector<Note>> out;
  for (const Note& n : notes) out[n.pitch].push_back(n);
  return out;
}

}  // namespace

TEST_CASE("postprocess: peaks and their sub-frame shifts") {
  std::vector<float> curve(30, 0);
  triangle(curve, 10, 0.003);
  triangle(curve, 20, -0.002);
  for (int neighbour : {2, 4}) {
    const Peaks p = find_peaks(curve, 0.3, neighbour);
    for (int t = 0; t < 30; ++t) CHECK(p.peak[t] == (t == 10 || t == 20 ? 1 : 0));
    CHECK(p.shift[10] == doctest::Approx(0.3).epsilon(1e-5));
    CHECK(p.shift[20] == doctest::Approx(-0.2).epsilon(1e-5));
  }
  // Below the threshold; too near the start for the neighbourhood.
  CHECK(find_peaks(curve, 0.95, 2).peak[10] == 0);
  std::vector<float> early(10, 0);
  triangle(early, 1, 0.0);
  CHECK(find_peaks(early, 0.3, 2).peak[1] == 0);
  CHECK(find_peaks(early, 0.3, 1).peak[1] == 1);
  // Float outputs compare with the threshold in double, as in NumPy 1.x: 0.3f (0.30000001) > 0.3.
  CHECK(find_peaks({0, 0.1f, 0.3f, 0.1f, 0}, 0.3, 2).peak[2] == 1);
  CHECK(find_peaks({0, 0.1f, 0.29f, 0.1f, 0}, 0.3, 2).peak[2] == 0);
  // A neighbour that rises towards the edge breaks the peak.
  const std::vector<float> bumpy = {0, 0.6f, 0.5f, 0.9f, 0.5f, 0.2f, 0};
  CHECK(find_peaks(bumpy, 0.3, 2).peak[3] == 0);
  CHECK(find_peaks(bumpy, 0.3, 1).peak[3] == 1);
  CHECK(find_peaks(bumpy, 0.3, 1).peak[1] == 1);
  // A plateau is three peaks; the middle one's shift is 0/0 (NaN in the reference, 0 here).
  const Peaks plateau = find_peaks({0, 0.2f, 0.8f, 0.8f, 0.8f, 0.2f, 0}, 0.3, 2);
  CHECK(plateau.peak == std::vector<char>{0, 0, 1, 1, 1, 0, 0});
  CHECK(plateau.shift[2] == 0.5f);
  CHECK(plateau.shift[3] == 0.0f);
  CHECK(plateau.shift[4] == -0.5f);
}

TEST_CASE("postprocess: a note ends at its offset peak when that is nearer the frame drop") {
  ModelOutputs out = one_key(100);
  triangle(out.reg_onset, 10, 0.002);
  fill(out.frame, 10, 40, 1);
  triangle(out.reg_offset, 40, -0.003);
  fill(out.velocity, 10, 40, 0.5f);
  const Transcription t = postprocess(out);
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0].onset == doctest::Approx(0.102).epsilon(1e-6));
  CHECK(t.notes[0].offset == doctest::Approx(0.397).epsilon(1e-6));
  CHECK(t.notes[0].pitch == 21);
  CHECK(t.notes[0].velocity == 64);
  CHECK(t.pedals.empty());
}

TEST_CASE("postprocess: a note ends at the frame drop when its offset peak is nearer the onset") {
  ModelOutputs out = one_key(100);
  triangle(out.reg_onset, 10, 0.0);
  triangle(out.reg_offset, 14, 0.001);
  fill(out.frame, 10, 40, 0.8f);
  out.frame[30] = 0.05f;  // <= frame_threshold: the frame drops here (0.1f > 0.1 in double)
  const Transcription t = postprocess(out);
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0].offset == doctest::Approx(0.30));
  // A peak exactly one frame before the drop of a two-frame note is not nearer the drop either.
  ModelOutputs two = one_key(100);
  triangle(two.reg_onset, 10, 0.0);
  triangle(two.reg_offset, 11, 0.002);
  fill(two.frame, 10, 11, 1);
  REQUIRE(postprocess(two).notes.size() == 1);
  CHECK(postprocess(two).notes[0].offset == doctest::Approx(0.12));
}

TEST_CASE("postprocess: consecutive onsets cut the earlier note a frame before the later one") {
  ModelOutputs out = one_key(100);
  triangle(out.reg_onset, 10, 0.001);
  triangle(out.reg_onset, 30, -0.004);
  fill(out.frame, 10, 60, 1);
  triangle(out.reg_offset, 60, 0.0);
  const Transcription t = postprocess(out);
  REQUIRE(t.notes.size() == 2);
  CHECK(t.notes[0].onset == doctest::Approx(0.101).epsilon(1e-6));
  CHECK(t.notes[0].offset == doctest::Approx(0.29));
  CHECK(t.notes[1].onset == doctest::Approx(0.296).epsilon(1e-6));
  CHECK(t.notes[1].offset == doctest::Approx(0.60));
  // Onsets in adjacent frames (a two-frame plateau): the first note would end before it starts;
  // its offset is moved to its onset.
  ModelOutputs adjacent = one_key(100);
  adjacent.reg_onset = std::vector<float>(100, 0);
  fill(adjacent.reg_onset, 8, 13, 0.2f);
  fill(adjacent.reg_onset, 9, 12, 0.5f);
  fill(adjacent.reg_onset, 10, 11, 0.9f);
  fill(adjacent.frame, 10, 40, 1);
  const Transcription a = postprocess(adjacent);
  REQUIRE(a.notes.size() == 2);
  CHECK(a.notes[0].onset == doctest::Approx(0.105));
  CHECK(a.notes[0].offset == a.notes[0].onset);
  CHECK(a.notes[1].onset == doctest::Approx(0.105));
  CHECK(a.notes[1].offset == doctest::Approx(0.41));
}

TEST_CASE("postprocess: min_note_seconds drops shorter notes and keeps the rest") {
  ModelOutputs out = one_key(100);
  triangle(out.reg_onset, 10, 0.0);
  triangle(out.reg_onset, 30, 0.0);
  fill(out.frame, 10, 60, 1);
  triangle(out.reg_offset, 60, 0.0);
  REQUIRE(postprocess(out).notes.size() == 2);  // 0.10-0.29 s and 0.30-0.60 s
  mlq::transcription::PostprocessOptions options;
  options.min_note_seconds = 0.25;
  const Transcription t = postprocess(out, options);
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0].onset == doctest::Approx(0.30));
  options.min_note_seconds = 0.18;  // both last at least this long
  CHECK(postprocess(out, options).notes.size() == 2);
}

TEST_CASE("postprocess: notes end after 600 frames or at the last frame") {
  ModelOutputs out = one_key(1000);
  triangle(out.reg_onset, 10, 0.0);
  fill(out.frame, 10, 999, 1);
  Transcription t = postprocess(out);
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0].offset == doctest::Approx(6.10));
  out.frames = 100;
  for (auto* roll : {&out.reg_onset, &out.reg_offset, &out.frame, &out.velocity}) roll->resize(100);
  t = postprocess(out);
  REQUIRE(t.notes.size() == 1);
  CHECK(t.notes[0].offset == doctest::Approx(0.99));
}

TEST_CASE("postprocess: velocities are truncated and clamped to MIDI's range") {
  const float outputs[] = {0.5f, 100.0f / 128, 0.999f, 1.0f, 0.001f};
  const int expected[] = {64, 100, 127, 127, 1};  // the reference: ..., 127, 128, 0
  for (int i = 0; i < 5; ++i) {
    ModelOutputs out = one_key(100);
    triangle(out.reg_onset, 10, 0.0);
    fill(out.frame, 10, 20, 1);
    out.velocity[10] = outputs[i];
    const Transcription t = postprocess(out);
    REQUIRE(t.notes.size() == 1);
    CHECK(t.notes[0].velocity == expected[i]);
  }
}

TEST_CASE("postprocess: pedal presses") {
  ModelOutputs out = one_key(300, true);
  fill(out.pedal_frame, 20, 120, 1);
  triangle(out.reg_pedal_offset, 120, 0.004);
  fill(out.pedal_frame, 150, 180, 0.9f);  // no offset peak: ends at the drop, 10 frames later
  fill(out.pedal_frame, 250, 299, 1);     // still down at the end: dropped
  Transcription t = postprocess(out);
  REQUIRE(t.pedals.size() == 2);
  CHECK(t.pedals[0].onset == doctest::Approx(0.20));
  CHECK(t.pedals[0].offset == doctest::Approx(1.204).epsilon(1e-6));
  CHECK(t.pedals[1].onset == doctest::Approx(1.50));
  CHECK(t.pedals[1].offset == doctest::Approx(1.81));
  // Down from frame 0: it never rises, so it is not found.
  ModelOutputs early = one_key(100, true);
  fill(early.pedal_frame, 0, 50, 1);
  triangle(early.reg_pedal_offset, 50, 0.0);
  CHECK(postprocess(early).pedals.empty());
  // Outputs of the wrong size.
  early.pedal_frame.pop_back();
  CHECK_THROWS_AS(postprocess(early), std::invalid_argument);
}

TEST_CASE("postprocess: hold_notes_by_pedal holds notes that end during a press to its release") {
  ModelOutputs out = one_key(300, true);
  // A note from frame 30 whose sound the model loses at frame 60, inside the press 20..120; a
  // second one from 150 to 180, after the press.
  triangle(out.reg_onset, 30, 0.0);
  fill(out.frame, 30, 60, 1);
  triangle(out.reg_onset, 150, 0.0);
  fill(out.frame, 150, 180, 1);
  fill(out.velocity, 0, 299, 0.5f);
  fill(out.pedal_frame, 20, 120, 1);
  triangle(out.reg_pedal_offset, 120, 0.0);
  const Transcription plain = postprocess(out);
  REQUIRE(plain.notes.size() == 2);
  CHECK(plain.notes[0].offset == doctest::Approx(0.61));
  REQUIRE(plain.pedals.size() == 1);
  mlq::transcription::PostprocessOptions options;
  options.hold_notes_by_pedal = true;
  const Transcription held = postprocess(out, options);
  REQUIRE(held.notes.size() == 2);
  CHECK(held.notes[0].onset == doctest::Approx(0.30));
  CHECK(held.notes[0].offset == doctest::Approx(plain.pedals[0].offset));
  CHECK(plain.pedals[0].offset == doctest::Approx(1.20));
  CHECK(held.notes[1].offset == doctest::Approx(plain.notes[1].offset));  // after the press
  CHECK(held.pedals.size() == 1);
}

// Perfect outputs: the targets themselves (velocity / 128). What the reference cannot recover,
// and the generated notes avoid:
// - onsets in frames 0, 1 and the last two (peaks need 2 frames either side) and offsets in the
//   first and last 4 frames, including notes cut by the segment end;
// - notes of under 3 frames (the offset peak must be nearer the frame drop than the onset), or of
//   600 frames and more;
// - a key struck again within a frame of the last release (the frame roll must drop in between),
//   or so close that the two notes' regression ramps overlap (10 frames here);
// - events exactly on half frames (two equal peaks).
// What it recovers inexactly: every onset and offset after the first of its key, by up to 7.5 ms,
// because get_regression draws the rising side of an event with the previous event's shift; pedal
// onsets to the frame (5 ms), as their regression is not used.
TEST_CASE("postprocess: perfect outputs give the notes back") {
  Rng rng{7};
  for (int round = 0; round < 20; ++round) {
    std::vector<Note> notes;
    for (int key = 0; key < 88; ++key) {
      double time = rng.uniform(0.03, 3.0);
      while (rng.integer(0, 2) != 0) {
        const double offset = time + rng.uniform(0.031, 5.9);
        if (offset > 9.95) break;
        notes.push_back({time, offset, 21 + key, rng.integer(1, 127)});
        time = offset + rng.uniform(0.1, 2.0);
      }
    }
    std::vector<Pedal> pedals;
    for (double time = rng.uniform(0.02, 1.0); time < 9.0;) {
      const double offset = time + rng.uniform(0.05, 3.0);
      if (offset > 9.95) break;
      pedals.push_back({time, offset});
      time = offset + rng.uniform(0.1, 2.0);
    }
    const SegmentTargets targets = make_targets(notes, pedals, 0.0, 10.0);
    ModelOutputs out;
    out.frames = targets.frames;
    out.reg_onset = targets.reg_onset_roll;
    out.reg_offset = targets.reg_offset_roll;
    out.frame = targets.frame_roll;
    out.velocity = targets.velocity_roll;
    for (float& v : out.velocity) v /= 128;
    out.reg_pedal_offset = targets.reg_pedal_offset_roll;
    out.pedal_frame = targets.pedal_frame_roll;
    const Transcription t = postprocess(out);

    REQUIRE(t.notes.size() == notes.size());
    CHECK(std::is_sorted(t.notes.begin(), t.notes.end(), [](const Note& a, const Note& b) {
      return a.onset < b.onset || (a.onset == b.onset && a.pitch < b.pitch);
    }));
    auto expected = by_key(notes);
    auto got = by_key(t.notes);
    for (const auto& [pitch, list] : expected) {
      REQUIRE(got[pitch].size() == list.size());
      for (std::size_t i = 0; i < list.size(); ++i) {
        const double tolerance = i == 0 ? 1e-6 : 0.0075 + 1e-6;
        INFO("pitch " << pitch << " note " << i);
        CHECK(std::abs(got[pitch][i].onset - list[i].onset) <= tolerance);
        CHECK(std::abs(got[pitch][i].offset - list[i].offset) <= tolerance);
        CHECK(got[pitch][i].velocity == list[i].velocity);
      }
    }
    REQUIRE(t.pedals.size() == pedals.size());
    for (std::size_t i = 0; i < pedals.size(); ++i) {
      CHECK(std::abs(t.pedals[i].onset - pedals[i].onset) <= 0.005 + 1e-9);
      CHECK(std::abs(t.pedals[i].offset - pedals[i].offset) <= (i == 0 ? 1e-6 : 0.0075 + 1e-6));
    }
  }
}

TEST_CASE("postprocess: agrees exactly with the transcribed reference on noisy outputs") {
  TempDir dir;
  Rng rng{99};
  for (int round = 0; round < 6; ++round) {
    // Targets of dense random notes (short ones, repeats, edges), then distorted: scaled, noised,
    // some values coarsely quantised (ties, plateaus) or saturated.
    std::vector<Note> notes;
    for (int i = 0; i < 250; ++i) {
      const double onset = rng.uniform(-1.0, 10.5);
      const double length = rng.integer(0, 3) == 0 ? rng.uniform(0, 0.03) : rng.uniform(0, 7);
      notes.push_back({onset, onset + length, rng.integer(21, 108), rng.integer(1, 127)});
    }
    std::vector<Pedal> pedals;
    for (int i = 0; i < 8; ++i) {
      const double onset = rng.uniform(-1.0, 10.5);
      pedals.push_back({onset, onset + rng.uniform(0, 2)});
    }
    const SegmentTargets targets = make_targets(notes, pedals, 0.0, 10.0);
    const bool coarse = round % 2 == 1;  // every value quantised: many plateaus
    auto distort = [&rng, coarse](std::vector<float> roll, double scale) {
      for (float& v : roll) {
        double x = v * scale + (rng.integer(0, 3) == 0 ? rng.uniform(0, 0.25) : 0.0);
        if (coarse || rng.integer(0, 9) == 0) x = std::round(x * 10) / 10;
        if (rng.integer(0, 199) == 0) x = 1.0;
        v = static_cast<float>(std::min(x, 1.0));
      }
      return roll;
    };
    ModelOutputs out;
    out.frames = targets.frames;
    out.reg_onset = distort(targets.reg_onset_roll, rng.uniform(0.5, 1.0));
    out.reg_offset = distort(targets.reg_offset_roll, rng.uniform(0.5, 1.0));
    out.frame = distort(targets.frame_roll, rng.uniform(0.5, 1.0));
    out.velocity = targets.velocity_roll;
    for (float& v : out.velocity) v = static_cast<float>(v / 128 * rng.uniform(0.9, 1.1));
    out.reg_pedal_offset = distort(targets.reg_pedal_offset_roll, rng.uniform(0.5, 1.0));
    out.pedal_frame = distort(targets.pedal_frame_roll, rng.uniform(0.5, 1.0));

    std::string bytes;
    for (const auto* roll : {&out.reg_onset, &out.reg_offset, &out.frame, &out.velocity,
                             &out.reg_pedal_offset, &out.pedal_frame}) {
      bytes.append(reinterpret_cast<const char*>(roll->data()), roll->size() * sizeof(float));
    }
    write_file(dir / "outputs.bin", bytes);
    const auto result =
        run_process({"/usr/bin/python3", kReference, "postprocess", (dir / "outputs.bin").string(),
                     "1001", "88", "1", (dir / "events.txt").string()});
    REQUIRE_MESSAGE(result.exit_code == 0, result.out);
    std::vector<Note> reference_notes;
    std::vector<Pedal> reference_pedals;
    std::istringstream lines(mlq::test::read_file(dir / "events.txt"));
    std::string kind, onset, offset;
    while (lines >> kind >> onset >> offset) {
      if (kind == "note") {
        Note n{std::stod(onset), std::stod(offset), 0, 0};
        lines >> n.pitch >> n.velocity;
        reference_notes.push_back(n);
      } else {
        reference_pedals.push_back({std::stod(onset), std::stod(offset)});
      }
    }

    const Transcription t = postprocess(out);
    INFO("round " << round);
    CHECK(reference_notes.size() > 100);
    auto ours = by_key(t.notes);
    auto theirs = by_key(reference_notes);  // the reference lists them by key, in onset order
    REQUIRE(ours.size() == theirs.size());
    int nan_shifts = 0;
    for (const auto& [pitch, list] : theirs) {
      REQUIRE(ours[pitch].size() == list.size());
      for (std::size_t i = 0; i < list.size(); ++i) {
        const Note& a = ours[pitch][i];
        const Note& b = list[i];
        INFO("pitch " << pitch << " note " << i);
        CHECK(a.velocity == std::clamp(b.velocity, 1, 127));
        if (std::isnan(b.onset) || std::isnan(b.offset)) ++nan_shifts;  // a plateau: ours is 0
        if (std::isnan(b.onset)) {
          CHECK(std::abs(a.onset * 100 - std::round(a.onset * 100)) < 1e-9);
        } else {
          CHECK(a.onset == b.onset);
          if (!std::isnan(b.offset)) CHECK(a.offset == std::max(b.offset, b.onset));
        }
      }
    }
    if (coarse) CHECK(nan_shifts > 0);
    REQUIRE(t.pedals.size() == reference_pedals.size());
    for (std::size_t i = 0; i < t.pedals.size(); ++i) {
      CHECK(t.pedals[i].onset == reference_pedals[i].onset);
      if (!std::isnan(reference_pedals[i].offset)) {
        CHECK(t.pedals[i].offset == reference_pedals[i].offset);
      }
    }
  }
}
