#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

#include "data/targets.hpp"
#include "mlq/util/random.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

using mlq::test::run_process;
using mlq::test::TempDir;
using mlq::test::write_file;
using mlq::transcription::make_targets;
using mlq::transcription::Note;
using mlq::transcription::Pedal;
using mlq::transcription::regression_target;
using mlq::transcription::round_half_even;
using mlq::transcription::segment_frames;
using mlq::transcription::SegmentTargets;

namespace {

const std::string kReference =
    std::string(MLQ_SOURCE_DIR) + "/tests/transcription/targets_reference.py";

float cell(const std::vector<float>& roll, int frame, int key) {
  return roll[static_cast<std::size_t>(frame) * 88 + key];
}

// 1 - min(|distance|, 50 ms) / 50 ms, the value of a regression target.
double ramp(double distance) {
  return 1.0 - std::min(std::abs(distance), 0.05) * 20;
}

// Seeded, the same everywhere.
struct Rng : mlq::SplitMix64 {
  using SplitMix64::SplitMix64;
  int integer(int low, int high) { return static_cast<int>(SplitMix64::integer(low, high)); }
};

}  // namespace

TEST_CASE("targets: round_half_even is Python 3 round") {
  CHECK(round_half_even(0.5) == 0);
  CHECK(round_half_even(1.5) == 2);
  CHECK(round_half_even(2.5) == 2);
  CHECK(round_half_even(-0.5) == 0);
  CHECK(round_half_even(-1.5) == -2);
  CHECK(round_half_even(-0.3) == 0);
  CHECK(round_half_even(-0.7) == -1);
  CHECK(round_half_even(0.49999999999999994) == 0);
  CHECK(round_half_even(999.9999999) == 1000);
  CHECK(segment_frames(10.0, 100) == 1001);
  CHECK(segment_frames(0.125, 100) == 13);  // 12.5 -> 12
}

TEST_CASE("targets: onsets on exact half frames round to the even frame") {
  // 0.125 s and 0.375 s are exact in binary: frames 12.5 and 37.5 -> 12 and 38.
  const SegmentTargets t = make_targets({{0.125, 0.375, 21, 50}}, {}, 0.0, 1.0);
  CHECK(cell(t.onset_roll, 12, 0) == 1);
  CHECK(cell(t.onset_roll, 13, 0) == 0);
  CHECK(cell(t.offset_roll, 38, 0) == 1);
  CHECK(cell(t.reg_onset_roll, 12, 0) == doctest::Approx(0.9));  // 5 ms away
  CHECK(cell(t.reg_offset_roll, 38, 0) == doctest::Approx(0.9));
}

TEST_CASE("targets: regression values around one event") {
  std::vector<double> shifts(20, 1.0);
  shifts[10] = 0.002;  // the event is 2 ms after frame 10
  const std::vector<double> g = regression_target(shifts, 100);
  CHECK(g[10] == doctest::Approx(0.96));
  CHECK(g[11] == doctest::Approx(0.84));  // 8 ms
  CHECK(g[9] == doctest::Approx(0.76));   // 12 ms
  CHECK(g[6] == doctest::Approx(0.16));   // 42 ms
  CHECK(g[5] == 0);                       // 52 ms: outside the 50 ms window
  CHECK(g[15] == doctest::Approx(0.04));  // 48 ms
  CHECK(g[16] == 0);
  CHECK(regression_target(std::vector<double>(5, 1.0), 100) == std::vector<double>(5, 0.0));
}

TEST_CASE("targets: the rising side before a second event uses the first event's shift") {
  std::vector<double> shifts(30, 1.0);
  shifts[10] = 0.004;
  shifts[20] = -0.003;
  const std::vector<double> g = regression_target(shifts, 100);
  CHECK(g[11] == doctest::Approx(ramp(0.01 - 0.004)));  // falling side of event 10: right
  CHECK(g[20] == doctest::Approx(ramp(0.003)));
  CHECK(g[21] == doctest::Approx(ramp(0.01 + 0.003)));  // falling side of event 20: right
  // Rising side of event 20 (frames 15..19): the reference subtracts event 10's shift.
  CHECK(g[19] == doctest::Approx(ramp(-0.01 - 0.004)));
  CHECK(g[16] == doctest::Approx(ramp(-0.04 - 0.004)));
  // Events in adjacent frames: the first one's peak is overwritten by the second one's ramp.
  std::vector<double> adjacent(20, 1.0);
  adjacent[10] = 0.0;
  adjacent[11] = 0.001;
  const std::vector<double> h = regression_target(adjacent, 100);
  CHECK(h[10] == doctest::Approx(0.8));
  CHECK(h[11] == doctest::Approx(ramp(0.001)));
}

TEST_CASE("targets: one note inside the segment") {
  const SegmentTargets t = make_targets({{1.234, 2.5, 60, 80}}, {}, 0.0, 10.0);
  REQUIRE(t.frames == 1001);
  REQUIRE(t.classes == 88);
  REQUIRE(t.onset_roll.size() == 1001u * 88);
  const int key = 60 - 21;
  for (int f = 0; f < 1001; ++f) {
    const bool on = f >= 123 && f <= 250;
    CHECK(cell(t.frame_roll, f, key) == (on ? 1 : 0));
    CHECK(cell(t.velocity_roll, f, key) == (on ? 80 : 0));
    CHECK(cell(t.onset_roll, f, key) == (f == 123 ? 1 : 0));
    CHECK(cell(t.offset_roll, f, key) == (f == 250 ? 1 : 0));
    CHECK(cell(t.mask_roll, f, key) == 1);
    CHECK(cell(t.frame_roll, f, key + 1) == 0);
  }
  CHECK(cell(t.reg_onset_roll, 123, key) == doctest::Approx(0.92));  // 4 ms after frame 123
  CHECK(cell(t.reg_onset_roll, 124, key) == doctest::Approx(ramp(0.006)));
  CHECK(cell(t.reg_onset_roll, 122, key) == doctest::Approx(ramp(0.014)));
  CHECK(cell(t.reg_onset_roll, 500, key) == 0);
  CHECK(cell(t.reg_offset_roll, 250, key) == doctest::Approx(1.0));
  CHECK(cell(t.reg_offset_roll, 254, key) == doctest::Approx(0.2));
  CHECK(cell(t.reg_offset_roll, 255, key) == 0);
}

TEST_CASE("targets: notes cut by the segment start are masked up to their offset") {
  // Segment 5..15 s. Started 1 s before: no onset, masked up to the offset frame.
  const SegmentTargets t = make_targets(
      {{4.0, 5.5, 21, 70}, {4.997, 6.0, 22, 70}, {3.0, 4.99, 23, 70}, {3.0, 4.996, 24, 70}}, {},
      5.0, 10.0);
  for (int f = 0; f <= 1000; ++f) {
    CHECK(cell(t.mask_roll, f, 0) == (f <= 50 ? 0 : 1));
    CHECK(cell(t.frame_roll, f, 0) == (f <= 50 ? 1 : 0));
    CHECK(cell(t.onset_roll, f, 0) == 0);
  }
  CHECK(cell(t.offset_roll, 50, 0) == 1);
  CHECK(cell(t.reg_onset_roll, 0, 0) == 0);
  // Started 3 ms before the segment: rounds to frame 0, so it has its onset (at -3 ms) there.
  CHECK(cell(t.onset_roll, 0, 1) == 1);
  CHECK(cell(t.reg_onset_roll, 0, 1) == doctest::Approx(0.94));
  CHECK(cell(t.mask_roll, 0, 1) == 1);
  // Ended 10 ms before: not there at all. Ended 4 ms before: frame 0 only, masked.
  for (int f = 0; f <= 1000; ++f) CHECK(cell(t.frame_roll, f, 2) == 0);
  CHECK(cell(t.frame_roll, 0, 3) == 1);
  CHECK(cell(t.offset_roll, 0, 3) == 1);
  CHECK(cell(t.mask_roll, 0, 3) == 0);
  CHECK(cell(t.mask_roll, 1, 3) == 1);
  CHECK(cell(t.reg_offset_roll, 0, 3) == doctest::Approx(0.92));
}

TEST_CASE("targets: notes cut by the segment end end there and are masked from their onset") {
  const SegmentTargets t = make_targets({{9.0, 12.0, 30, 60},
                                         {-1.0, 20.0, 31, 60},
                                         {10.0, 10.5, 32, 60},
                                         {10.001, 11.0, 33, 60},
                                         {9.5, 10.0, 34, 60}},
                                        {}, 0.0, 10.0);
  for (int f = 0; f <= 1000; ++f) {
    CHECK(cell(t.mask_roll, f, 9) == (f >= 900 ? 0 : 1));
    CHECK(cell(t.frame_roll, f, 9) == (f >= 900 ? 1 : 0));
    CHECK(cell(t.mask_roll, f, 10) == 0);  // across the whole segment
    CHECK(cell(t.frame_roll, f, 10) == 1);
    CHECK(cell(t.onset_roll, f, 10) == 0);
    CHECK(cell(t.mask_roll, f, 11) == (f == 1000 ? 0 : 1));
    CHECK(cell(t.frame_roll, f, 12) == 0);  // starts after the end
    CHECK(cell(t.mask_roll, f, 13) == 1);   // ends exactly at the end: not cut
  }
  CHECK(cell(t.offset_roll, 1000, 9) == 1);
  CHECK(cell(t.reg_offset_roll, 1000, 9) == 1);
  CHECK(cell(t.reg_offset_roll, 999, 9) == doctest::Approx(0.8));
  CHECK(cell(t.offset_roll, 1000, 10) == 1);
  CHECK(cell(t.onset_roll, 1000, 11) == 1);
  CHECK(cell(t.offset_roll, 1000, 11) == 1);
  CHECK(cell(t.offset_roll, 1000, 13) == 1);
}

TEST_CASE("targets: short notes, overlapping notes and keys outside the piano") {
  const SegmentTargets t = make_targets({{1.001, 1.004, 40, 90},
                                         {2.0, 3.0, 41, 50},
                                         {2.5, 3.5, 41, 100},
                                         {1.0, 1.5, 15, 33},
                                         {1.0, 1.5, 120, 44}},
                                        {}, 0.0, 10.0);
  // Shorter than a frame: one frame holding both the onset and the offset.
  CHECK(cell(t.onset_roll, 100, 19) == 1);
  CHECK(cell(t.offset_roll, 100, 19) == 1);
  CHECK(cell(t.frame_roll, 100, 19) == 1);
  CHECK(cell(t.frame_roll, 101, 19) == 0);
  CHECK(cell(t.reg_onset_roll, 100, 19) == doctest::Approx(0.98));
  CHECK(cell(t.reg_offset_roll, 100, 19) == doctest::Approx(0.92));
  // One key struck again while sounding: rolls are unions, the later note's velocity wins.
  CHECK(cell(t.velocity_roll, 240, 20) == 50);
  CHECK(cell(t.velocity_roll, 260, 20) == 100);
  CHECK(cell(t.velocity_roll, 340, 20) == 100);
  CHECK(cell(t.onset_roll, 250, 20) == 1);
  CHECK(cell(t.offset_roll, 300, 20) == 1);
  // Keys below A0 and above C8 land on the end keys.
  CHECK(cell(t.velocity_roll, 120, 0) == 33);
  CHECK(cell(t.velocity_roll, 120, 87) == 44);
}

TEST_CASE("targets: pedal rolls") {
  const SegmentTargets t =
      make_targets({}, {{1.003, 3.0}, {-1.0, 0.5}, {9.5, 11.0}, {10.5, 12.0}}, 0.0, 10.0);
  REQUIRE(t.pedal_frame_roll.size() == 1001u);
  for (int f = 0; f <= 1000; ++f) {
    const bool on = f <= 50 || (f >= 100 && f <= 300) || f >= 950;
    CHECK(t.pedal_frame_roll[f] == (on ? 1 : 0));
    CHECK(t.pedal_onset_roll[f] == (f == 100 || f == 950 ? 1 : 0));
    CHECK(t.pedal_offset_roll[f] == (f == 50 || f == 300 || f == 1000 ? 1 : 0));
  }
  CHECK(t.reg_pedal_onset_roll[100] == doctest::Approx(0.94));
  CHECK(t.reg_pedal_onset_roll[0] == 0);
  CHECK(t.reg_pedal_offset_roll[1000] == 1);
  CHECK(t.reg_pedal_offset_roll[300] == 1);
  CHECK(t.reg_pedal_offset_roll[52] == doctest::Approx(0.6));
  for (float mask : t.mask_roll) CHECK(mask == 1);
}

TEST_CASE("targets: random segments agree exactly with the transcribed reference") {
  TempDir dir;
  Rng rng{20240611};
  const char* names[] = {"onset_roll",       "offset_roll",          "reg_onset_roll",
                         "reg_offset_roll",  "frame_roll",           "velocity_roll",
                         "mask_roll",        "reg_pedal_onset_roll", "reg_pedal_offset_roll",
                         "pedal_onset_roll", "pedal_offset_roll",    "pedal_frame_roll"};
  for (int round = 0; round < 8; ++round) {
    const double start = round == 0 ? 0.0 : rng.uniform(0.0, 30.0);
    const double seconds = round == 1 ? 3.217 : 10.0;
    std::vector<Note> notes;
    std::vector<Pedal> pedals;
    // Repeated and overlapping keys, notes shorter than a frame, keys beyond the piano, onsets on
    // exact half frames (round 0, whose segment starts at 0), events over both segment edges.
    const int count = rng.integer(50, 300);
    for (int i = 0; i < count; ++i) {
      double onset = start + rng.uniform(-3.0, seconds + 1.0);
      if (rng.integer(0, 4) == 0) onset = start + rng.integer(-300, 1100) * 0.005;
      const double length = rng.integer(0, 3) == 0 ? rng.uniform(0.0, 0.02) : rng.uniform(0, 4);
      notes.push_back({onset, onset + length, rng.integer(14, 112), rng.integer(1, 127)});
    }
    for (int i = 0; i < 6; ++i) {
      const double onset = start + rng.uniform(-3.0, seconds + 1.0);
      pedals.push_back({onset, onset + rng.uniform(0.0, 3.0)});
    }
    std::ostringstream spec;
    spec.precision(17);
    spec << "segment " << start << " " << seconds << "\n";
    for (const Note& n : notes) {
      spec << "note " << n.onset << " " << n.offset << " " << n.pitch << " " << n.velocity << "\n";
    }
    for (const Pedal& p : pedals) spec << "pedal " << p.onset << " " << p.offset << "\n";
    write_file(dir / "spec.txt", spec.str());
    const auto result = run_process({"/usr/bin/python3", kReference, "targets",
                                     (dir / "spec.txt").string(), (dir / "rolls.bin").string()});
    REQUIRE_MESSAGE(result.exit_code == 0, result.out);
    const std::string bytes = mlq::test::read_file(dir / "rolls.bin");

    const SegmentTargets t = make_targets(notes, pedals, start, seconds);
    const std::vector<float>* rolls[] = {
        &t.onset_roll,       &t.offset_roll,          &t.reg_onset_roll,
        &t.reg_offset_roll,  &t.frame_roll,           &t.velocity_roll,
        &t.mask_roll,        &t.reg_pedal_onset_roll, &t.reg_pedal_offset_roll,
        &t.pedal_onset_roll, &t.pedal_offset_roll,    &t.pedal_frame_roll};
    std::size_t at = 0;
    for (int r = 0; r < 12; ++r) {
      const std::vector<float>& ours = *rolls[r];
      REQUIRE(bytes.size() >= (at + ours.size()) * sizeof(double));
      int differences = 0;
      for (std::size_t i = 0; i < ours.size(); ++i) {
        double reference;
        std::memcpy(&reference, bytes.data() + (at + i) * sizeof(double), sizeof(double));
        if (ours[i] != static_cast<float>(reference)) ++differences;
      }
      at += ours.size();
      INFO("round " << round << " roll " << names[r]);
      CHECK(differences == 0);
    }
    CHECK(bytes.size() == at * sizeof(double));
  }
}
