#pragma once
// MIDI bytes written by hand, python3-mido as the reference reader and writer, random
// performances, and WAV decoding: what the MIDI tests share.
#include <doctest/doctest.h>
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>
#include "data/midi_file.hpp"
#include "mlq/util/error.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

namespace midi_fixtures {

namespace fs = std::filesystem;
using namespace mlq::transcription;
using mlq::test::run_process;
using mlq::test::TempDir;
using mlq::test::write_file;

inline const std::string kReference =
    std::string(MLQ_SOURCE_DIR) + "/tests/transcription/midi_reference.py";
inline constexpr double kHalfTick =
    0.5 / 960;  // of the files we write: 480 ticks per quarter, 120 bpm

// ---- assembling files byte by byte ----

inline std::string b(std::initializer_list<int> values) {
  std::string out;
  for (int value : values) out += static_cast<char>(value);
  return out;
}

inline std::string big_endian(uint32_t value, int size) {
  std::string out;
  for (int i = size - 1; i >= 0; --i) out += static_cast<char>(value >> (8 * i) & 0xFF);
  return out;
}

inline std::string header(int format, int tracks, int division) {
  return "MThd" + big_endian(6, 4) + big_endian(format, 2) + big_endian(tracks, 2) +
         big_endian(division, 2);
}

inline std::string track(const std::string& events) {
  return "MTrk" + big_endian(static_cast<uint32_t>(events.size()), 4) + events;
}

inline const std::string kEndOfTrack = b({0x00, 0xFF, 0x2F, 0x00});

// ---- comparing ----

inline void check_notes(const std::vector<Note>& actual, const std::vector<Note>& expected,
                        double tolerance = 1e-12) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("note " << i << ": got " << actual[i].onset << ".." << actual[i].offset << " pitch "
                 << actual[i].pitch << " velocity " << actual[i].velocity << ", expected "
                 << expected[i].onset << ".." << expected[i].offset << " pitch "
                 << expected[i].pitch << " velocity " << expected[i].velocity);
    CHECK(std::abs(actual[i].onset - expected[i].onset) <= tolerance);
    CHECK(std::abs(actual[i].offset - expected[i].offset) <= tolerance);
    CHECK(actual[i].pitch == expected[i].pitch);
    CHECK(actual[i].velocity == expected[i].velocity);
  }
}

inline void check_pedals(const std::vector<Pedal>& actual, const std::vector<Pedal>& expected,
                         double tolerance = 1e-12) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("pedal " << i << ": got " << actual[i].onset << ".." << actual[i].offset << ", expected "
                  << expected[i].onset << ".." << expected[i].offset);
    CHECK(std::abs(actual[i].onset - expected[i].onset) <= tolerance);
    CHECK(std::abs(actual[i].offset - expected[i].offset) <= tolerance);
  }
}

inline void check_performance(const Performance& actual, const Performance& expected,
                              double tolerance = 1e-12) {
  check_notes(actual.notes, expected.notes, tolerance);
  check_pedals(actual.pedals, expected.pedals, tolerance);
  CHECK(std::abs(actual.duration - expected.duration) <= tolerance);
}

// The UserError message of parsing `bytes`, or "(no error)".
inline std::string parse_error(const std::string& bytes, const std::string& name = "x.mid") {
  try {
    parse_midi(bytes, name);
  } catch (const mlq::UserError& error) {
    return error.what();
  }
  return "(no error)";
}

inline void check_error(const std::string& bytes, const std::string& detail) {
  const std::string message = parse_error(bytes, "dir/x.mid");
  INFO("message: " << message);
  INFO("expected detail: " << detail);
  CHECK(message.rfind("dir/x.mid: ", 0) == 0);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find(detail) != std::string::npos);
}

// ---- python3-mido ----

// The notes, pedals and length mido sees in `file`.
inline Performance mido_read(const fs::path& file) {
  auto result = run_process({"/usr/bin/python3", kReference, "read", file.string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  Performance performance;
  std::istringstream lines(result.out);
  std::string line;
  bool has_duration = false;
  while (std::getline(lines, line)) {
    std::istringstream words(line);
    std::string kind;
    words >> kind;
    if (kind == "note") {
      Note note;
      words >> note.onset >> note.offset >> note.pitch >> note.velocity;
      performance.notes.push_back(note);
    } else if (kind == "pedal") {
      Pedal pedal;
      words >> pedal.onset >> pedal.offset;
      performance.pedals.push_back(pedal);
    } else if (kind == "duration") {
      words >> performance.duration;
      has_duration = true;
    } else {
      FAIL("unexpected line from midi_reference.py: " << line);
    }
    REQUIRE_MESSAGE(!words.fail(), "cannot parse line from midi_reference.py: " << line);
  }
  REQUIRE_MESSAGE(has_duration, result.out);
  return performance;
}

inline void mido_write(const fs::path& file, const std::string& spec) {
  const fs::path spec_file = file.parent_path() / "spec.txt";
  write_file(spec_file, spec);
  auto result =
      run_process({"/usr/bin/python3", kReference, "write", file.string(), spec_file.string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
}

// ---- performances to write ----

// Seeded: notes of one pitch follow each other (sometimes touching, so a note-off and a note-on
// share a tick), times off the tick grid, pedal presses in sequence (sometimes touching).
inline Performance random_performance(unsigned seed, int notes_per_pitch = 6) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> length(0.01, 0.8);
  std::uniform_real_distribution<double> gap(0.0, 0.5);
  std::uniform_int_distribution<int> velocity(1, 127);
  Performance performance;
  for (int pitch = 21; pitch <= 108; pitch += 3) {
    double time = gap(rng);
    for (int i = 0; i < notes_per_pitch; ++i) {
      const double onset = time;
      const double offset = onset + length(rng);
      performance.notes.push_back({onset, offset, pitch, velocity(rng)});
      time = rng() % 4 == 0 ? offset : offset + gap(rng);
    }
  }
  double time = gap(rng);
  for (int i = 0; i < 12; ++i) {
    const double onset = time;
    const double offset = onset + 2 * length(rng);
    performance.pedals.push_back({onset, offset});
    time = rng() % 3 == 0 ? offset : offset + gap(rng);
  }
  std::sort(performance.notes.begin(), performance.notes.end(), [](const Note& x, const Note& y) {
    return std::tie(x.onset, x.pitch) < std::tie(y.onset, y.pitch);
  });
  for (const Note& note : performance.notes)
    performance.duration = std::max(performance.duration, note.offset);
  performance.duration = std::max(performance.duration, time) + 0.25;
  return performance;
}

// What reading back must give: times on the 1/960 s grid. Sorted by the rounded times, which can
// reorder notes whose onsets are closer than half a tick.
inline Performance on_tick_grid(Performance performance) {
  auto grid = [](double seconds) { return std::round(seconds * 960) / 960; };
  for (Note& note : performance.notes) {
    note.onset = grid(note.onset);
    note.offset = grid(note.offset);
  }
  for (Pedal& pedal : performance.pedals) {
    pedal.onset = grid(pedal.onset);
    pedal.offset = grid(pedal.offset);
  }
  performance.duration = grid(performance.duration);
  std::sort(performance.notes.begin(), performance.notes.end(), [](const Note& x, const Note& y) {
    return std::tie(x.onset, x.pitch, x.offset) < std::tie(y.onset, y.pitch, y.offset);
  });
  return performance;
}

// 16-bit PCM samples (all channels interleaved) and the channel count of a WAV file.
inline std::vector<int16_t> wav_samples(const std::string& bytes, int& channels, int& rate) {
  REQUIRE(bytes.size() >= 12);
  REQUIRE(bytes.compare(0, 4, "RIFF") == 0);
  auto u32 = [&](size_t pos) {
    uint32_t value = 0;
    for (int i = 3; i >= 0; --i) value = value << 8 | static_cast<uint8_t>(bytes[pos + i]);
    return value;
  };
  size_t pos = 12;
  std::vector<int16_t> samples;
  while (pos + 8 <= bytes.size()) {
    const std::string id = bytes.substr(pos, 4);
    const size_t size = std::min<size_t>(u32(pos + 4), bytes.size() - pos - 8);
    if (id == "fmt ") {
      REQUIRE((u32(pos + 8) & 0xFFFF) == 1);  // PCM
      channels = static_cast<int>(u32(pos + 8) >> 16);
      rate = static_cast<int>(u32(pos + 12));
      REQUIRE((u32(pos + 20) >> 16) == 16);  // bits per sample
    } else if (id == "data") {
      samples.resize(size / 2);
      std::memcpy(samples.data(), bytes.data() + pos + 8, samples.size() * 2);
    }
    pos += 8 + size + (size & 1);
  }
  return samples;
}

inline double rms(const std::vector<int16_t>& samples, int channels, int rate, double from,
                  double to) {
  const size_t begin = static_cast<size_t>(from * rate) * channels;
  const size_t end = std::min(samples.size(), static_cast<size_t>(to * rate) * channels);
  REQUIRE(begin < end);
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += static_cast<double>(samples[i]) * samples[i];
  return std::sqrt(sum / static_cast<double>(end - begin));
}

}  // namespace midi_fixtures
