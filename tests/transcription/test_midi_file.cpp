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

namespace fs = std::filesystem;
using mlq::test::run_process;
using mlq::test::TempDir;
using mlq::test::write_file;
using mlq::transcription::extend_offsets_by_pedal;
using mlq::transcription::midi_bytes;
using mlq::transcription::Note;
using mlq::transcription::parse_midi;
using mlq::transcription::Pedal;
using mlq::transcription::Performance;
using mlq::transcription::read_midi;
using mlq::transcription::write_midi;

namespace {

const std::string kReference =
    std::string(MLQ_SOURCE_DIR) + "/tests/transcription/midi_reference.py";
constexpr double kHalfTick = 0.5 / 960;  // of the files we write: 480 ticks per quarter, 120 bpm

// ---- assembling files byte by byte ----

std::string b(std::initializer_list<int> values) {
  std::string out;
  for (int value : values) out += static_cast<char>(value);
  return out;
}

std::string big_endian(uint32_t value, int size) {
  std::string out;
  for (int i = size - 1; i >= 0; --i) out += static_cast<char>(value >> (8 * i) & 0xFF);
  return out;
}

std::string header(int format, int tracks, int division) {
  return "MThd" + big_endian(6, 4) + big_endian(format, 2) + big_endian(tracks, 2) +
         big_endian(division, 2);
}

std::string track(const std::string& events) {
  return "MTrk" + big_endian(static_cast<uint32_t>(events.size()), 4) + events;
}

const std::string kEndOfTrack = b({0x00, 0xFF, 0x2F, 0x00});

// ---- comparing ----

void check_notes(const std::vector<Note>& actual, const std::vector<Note>& expected,
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

void check_pedals(const std::vector<Pedal>& actual, const std::vector<Pedal>& expected,
                  double tolerance = 1e-12) {
  REQUIRE(actual.size() == expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    INFO("pedal " << i << ": got " << actual[i].onset << ".." << actual[i].offset << ", expected "
                  << expected[i].onset << ".." << expected[i].offset);
    CHECK(std::abs(actual[i].onset - expected[i].onset) <= tolerance);
    CHECK(std::abs(actual[i].offset - expected[i].offset) <= tolerance);
  }
}

void check_performance(const Performance& actual, const Performance& expected,
                       double tolerance = 1e-12) {
  check_notes(actual.notes, expected.notes, tolerance);
  check_pedals(actual.pedals, expected.pedals, tolerance);
  CHECK(std::abs(actual.duration - expected.duration) <= tolerance);
}

// The UserError message of parsing `bytes`, or "(no error)".
std::string parse_error(const std::string& bytes, const std::string& name = "x.mid") {
  try {
    parse_midi(bytes, name);
  } catch (const mlq::UserError& error) {
    return error.what();
  }
  return "(no error)";
}

void check_error(const std::string& bytes, const std::string& detail) {
  const std::string message = parse_error(bytes, "dir/x.mid");
  INFO("message: " << message);
  INFO("expected detail: " << detail);
  CHECK(message.rfind("dir/x.mid: ", 0) == 0);
  CHECK(message.find('\n') == std::string::npos);
  CHECK(message.find(detail) != std::string::npos);
}

// ---- python3-mido ----

// The notes, pedals and length mido sees in `file`.
Performance mido_read(const fs::path& file) {
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

void mido_write(const fs::path& file, const std::string& spec) {
  const fs::path spec_file = file.parent_path() / "spec.txt";
  write_file(spec_file, spec);
  auto result =
      run_process({"/usr/bin/python3", kReference, "write", file.string(), spec_file.string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
}

// ---- performances to write ----

// Seeded: notes of one pitch follow each other (sometimes touching, so a note-off and a note-on
// share a tick), times off the tick grid, pedal presses in sequence (sometimes touching).
Performance random_performance(unsigned seed, int notes_per_pitch = 6) {
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
Performance on_tick_grid(Performance performance) {
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
std::vector<int16_t> wav_samples(const std::string& bytes, int& channels, int& rate) {
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

double rms(const std::vector<int16_t>& samples, int channels, int rate, double from, double to) {
  const size_t begin = static_cast<size_t>(from * rate) * channels;
  const size_t end = std::min(samples.size(), static_cast<size_t>(to * rate) * channels);
  REQUIRE(begin < end);
  double sum = 0;
  for (size_t i = begin; i < end; ++i) sum += static_cast<double>(samples[i]) * samples[i];
  return std::sqrt(sum / static_cast<double>(end - begin));
}

}  // namespace

// ---------------------------------------------------------------- reading hand-made bytes

TEST_CASE("midi: running status, velocity-0 note-offs and the default tempo in format 0") {
  const std::string events = b({0x00, 0x90, 0x3C, 0x64}) +  // on 60 vel 100 at 0
                             b({0x00, 0x40, 0x50}) +        // (running status) on 64 vel 80
                             b({0x60, 0x3C, 0x00}) +        // 96 ticks later: off 60
                             b({0x30, 0x40, 0x00}) +        // 48 more: off 64
                             kEndOfTrack;
  const std::string file = header(0, 1, 96) + track(events);
  // 120 bpm, 96 ticks per quarter: 192 ticks per second.
  check_performance(parse_midi(file, "x.mid"), {{{0, 0.5, 60, 100}, {0, 0.75, 64, 80}}, {}, 0.75});
}

TEST_CASE("midi: format 1 tempo changes in track 0 give exact seconds for notes in track 1") {
  const std::string conductor = track(b({
      0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,        // 500000 us per quarter at tick 0
      0x87, 0x40, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40,  // tick 960 (1 s): 1000000 us per quarter
      0x00, 0xFF, 0x2F, 0x00,
  }));
  const std::string piano = track(b({
      0x83, 0x60, 0x90, 0x3C, 0x40,  // tick 480 (0.5 s): on 60
      0x87, 0x40, 0x80, 0x3C, 0x40,  // tick 1440 (2 s): off 60
      0x00, 0x90, 0x3E, 0x50,        // tick 1440: on 62
      0x83, 0x60, 0x80, 0x3E, 0x00,  // tick 1920 (3 s): off 62
      0x00, 0xFF, 0x2F, 0x00,
  }));
  const Performance performance = parse_midi(header(1, 2, 480) + conductor + piano, "x.mid");
  // Exact: these are the seconds the tempo map defines, not approximations.
  CHECK(performance.notes.size() == 2);
  check_performance(performance, {{{0.5, 2.0, 60, 64}, {2.0, 3.0, 62, 80}}, {}, 3.0}, 0.0);
}

TEST_CASE("midi: tempo events in any track apply to all tracks and the last one at a tick wins") {
  const std::string piano = track(b({0x64, 0x90, 0x3C, 0x40}) +  // tick 100: on 60
                                  b({0x64, 0x80, 0x3C, 0x40}) +  // tick 200: off 60
                                  kEndOfTrack);
  const std::string tempo_last =
      track(b({0x00, 0xFF, 0x51, 0x03, 0x0F, 0x42, 0x40}) +  // 1000000 at tick 0 ...
            b({0x00, 0xFF, 0x51, 0x03, 0x03, 0xD0, 0x90}) +  // ... replaced by 250000 at tick 0
            kEndOfTrack);
  // 100 ticks per quarter at 250000 us: 400 ticks per second.
  check_performance(parse_midi(header(1, 2, 100) + piano + tempo_last, "x.mid"),
                    {{{0.25, 0.5, 60, 64}}, {}, 0.5});
}

TEST_CASE("midi: overlapping notes of one pitch pair first in first out per channel") {
  // 100 ticks per quarter at 120 bpm: 200 ticks per second.
  const std::string events = b({
      0x00, 0x90, 0x3C, 0x0A,  // 0 s: on 60 vel 10
      0x64, 0x90, 0x3C, 0x14,  // 0.5 s: on 60 vel 20 while the first is held
      0x64, 0x80, 0x3C, 0x40,  // 1 s: off 60 closes the first
      0x64, 0x90, 0x3C, 0x00,  // 1.5 s: off 60 closes the second
      0x00, 0x80, 0x3D, 0x40,  // off 61 that was never on: ignored
      0x00, 0x90, 0x3E, 0x1E,  // 1.5 s: on 62, never closed
      0x00, 0x90, 0x40, 0x28,  // 1.5 s: on 64 channel 0
      0x0A, 0x91, 0x40, 0x32,  // 1.55 s: on 64 channel 1
      0x0A, 0x81, 0x40, 0x00,  // 1.6 s: off 64 channel 1 closes channel 1's note
      0x0A, 0x80, 0x40, 0x00,  // 1.65 s: off 64 channel 0
      0x5A, 0xFF, 0x2F, 0x00,  // end of track at 2.1 s
  });
  const Performance expected{{{0, 1.0, 60, 10},
                              {0.5, 1.5, 60, 20},
                              {1.5, 2.1, 62, 30},
                              {1.5, 1.65, 64, 40},
                              {1.55, 1.6, 64, 50}},
                             {},
                             2.1};
  check_performance(parse_midi(header(0, 1, 100) + track(events), "x.mid"), expected);
}

TEST_CASE("midi: CC64 presses the sustain pedal at 64 and above and repeats are ignored") {
  // 100 ticks per quarter at 120 bpm: 200 ticks per second.
  const std::string events = b({
      0x00, 0xB0, 0x40, 0x7F,  // 0 s: down
      0x64, 0x40, 0x64,        // 0.5 s: (running status) 100, still down
      0x64, 0x40, 0x0A,        // 1 s: up
      0x32, 0x40, 0x00,        // 1.25 s: up again, ignored
      0x32, 0x40, 0x40,        // 1.5 s: 64 is down
      0x64, 0x40, 0x3F,        // 2 s: 63 is up
      0x32, 0x07, 0x7F,        // 2.25 s: CC7 is not the pedal
      0x32, 0x40, 0x7F,        // 2.5 s: down until the end
      0x64, 0xFF, 0x2F, 0x00,  // end at 3 s
  });
  check_performance(parse_midi(header(0, 1, 100) + track(events), "x.mid"),
                    {{}, {{0, 1.0}, {1.5, 2.0}, {2.5, 3.0}}, 3.0});

  // Per channel, merged into one list: overlapping presses become one.
  const std::string channels = b({
      0x00, 0xB0, 0x40, 0x7F,  // 0 s: channel 0 down
      0x64, 0xB1, 0x40, 0x7F,  // 0.5 s: channel 1 down
      0x64, 0xB0, 0x40, 0x00,  // 1 s: channel 0 up (channel 1 still down)
      0x64, 0xB1, 0x40, 0x00,  // 1.5 s: channel 1 up
      0x64, 0xB1, 0x40, 0x7F,  // 2 s: channel 1 down
      0x64, 0xB1, 0x40, 0x00,  // 2.5 s: channel 1 up
      0x00, 0xFF, 0x2F, 0x00,
  });
  check_performance(parse_midi(header(0, 1, 100) + track(channels), "x.mid"),
                    {{}, {{0, 1.5}, {2.0, 2.5}}, 2.5});
}

TEST_CASE("midi: sysex, meta events, unknown chunks and bytes after the end are skipped") {
  std::string long_text(130, 'a');  // a meta length that needs two bytes
  const std::string first =
      track(b({0x00, 0xFF, 0x01, 0x81, 0x02}) + long_text +
            b({
                0x00, 0xF0, 0x03, 0x7E, 0x09, 0xF7,  // sysex
                0x00, 0xF7, 0x02, 0xF3, 0x01,        // escape
                0x00, 0xC0, 0x00,                    // program change
                0x00, 0x90, 0x3C, 0x64,              // 0 s: on 60
                0x00, 0xFF, 0x03, 0x01, 0x41,        // track name
                0x60, 0x3C, 0x00,                    // running status across a meta event
                0x00, 0xE0, 0x00, 0x40,              // pitch bend
                0x00, 0xD0, 0x10,                    // channel pressure
            }) +
            kEndOfTrack + b({0x00, 0x90, 0x3E, 0x64}));  // after the end: not a note
  const std::string alien = "XFIH" + big_endian(3, 4) + b({0x01, 0x02, 0x03});
  const std::string second =
      track(b({0x30, 0x90, 0x40, 0x50, 0x30, 0x80, 0x40, 0x00}) + kEndOfTrack);
  const std::string long_header = "MThd" + big_endian(8, 4) + big_endian(1, 2) + big_endian(2, 2) +
                                  big_endian(96, 2) + b({0xAA, 0xBB});
  const std::string file = long_header + first + alien + second + "trailing junk";
  check_performance(parse_midi(file, "x.mid"), {{{0, 0.5, 60, 100}, {0.25, 0.5, 64, 80}}, {}, 0.5});
}

TEST_CASE("midi: a file with no notes or no tracks is empty, not an error") {
  check_performance(parse_midi(header(1, 0, 480), "x.mid"), {{}, {}, 0});
  check_performance(parse_midi(header(0, 1, 480) + track(kEndOfTrack), "x.mid"), {{}, {}, 0});
}

// ---------------------------------------------------------------- errors

TEST_CASE("midi: every truncated prefix of a valid file is a UserError naming the file") {
  Performance performance = random_performance(7, 2);
  performance.notes.resize(10);
  performance.pedals.resize(3);
  const std::vector<std::string> files = {
      midi_bytes(performance),
      header(1, 2, 480) +
          track(b({0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20, 0x87, 0x40, 0xFF, 0x51, 0x03, 0x0F,
                   0x42, 0x40}) +
                kEndOfTrack) +
          track(b({0x83, 0x60, 0x90, 0x3C, 0x40, 0x87, 0x40, 0x3C, 0x00, 0x00, 0xF0, 0x01, 0xF7}) +
                kEndOfTrack),
  };
  for (const std::string& file : files) {
    REQUIRE(parse_error(file) == "(no error)");
    for (size_t size = 0; size < file.size(); ++size) {
      const std::string message = parse_error(file.substr(0, size), "cut.mid");
      INFO("prefix of " << size << " of " << file.size() << " bytes: " << message);
      CHECK(message.rfind("cut.mid: ", 0) == 0);
      CHECK(message.find('\n') == std::string::npos);
    }
  }
  // The message says where and how much is missing.
  check_error(header(0, 1, 96) + "MTrk" + big_endian(20, 4) + b({0x00, 0x90, 0x3C, 0x40}),
              "truncated track 1 of 1 at byte 26 (expected 16 more bytes)");
  check_error(header(1, 2, 96) + track(kEndOfTrack), "announces 2 tracks, the file ends after 1");
  check_error(header(1, 2, 96) + track(kEndOfTrack) + "MTr",
              "truncated chunk header of track 2 of 2 at byte 26");
  check_error("MThd" + big_endian(6, 4) + b({0, 1}), "truncated header");
}

TEST_CASE("midi: corrupt files give one-line errors that say what was wrong") {
  check_error("", "not a MIDI file (no MThd header)");
  check_error("RIFF....WAVEfmt ", "not a MIDI file (no MThd header)");
  check_error(header(2, 1, 96) + track(kEndOfTrack), "format 2");
  check_error(header(3, 1, 96) + track(kEndOfTrack), "unknown MIDI format 3");
  check_error(header(1, 1, 0xE728) + track(kEndOfTrack), "SMPTE time division (0xE728)");
  check_error(header(1, 1, 0) + track(kEndOfTrack), "time division of 0 ticks per quarter note");
  check_error("MThd" + big_endian(4, 4) + b({0, 0, 0, 1, 0, 0}), "header chunk of 4 bytes");
  check_error(
      header(0, 1, 96) + "\x01\x02\x03\x04" + big_endian(0, 4),
      "expected an MTrk chunk for track 1 of 1 at byte 14, found bytes 0x01 0x02 0x03 0x04");
  check_error(header(0, 1, 96) + track(b({0x00, 0x3C, 0x40}) + kEndOfTrack),
              "track 1 of 1, byte 23: data byte 0x3C where a status byte was expected");
  check_error(header(0, 1, 96) + track(b({0x80, 0x80, 0x80, 0x80, 0x00, 0x90, 0x3C, 0x40})),
              "track 1 of 1, byte 22: variable-length number longer than 4 bytes");
  check_error(header(0, 1, 96) + track(b({0x00, 0xFF, 0x51, 0x02, 0x07, 0xA1}) + kEndOfTrack),
              "set-tempo event of 2 bytes (expected 3)");
  check_error(header(0, 1, 96) + track(b({0x00, 0xFF, 0x51, 0x03, 0, 0, 0}) + kEndOfTrack),
              "tempo of 0 microseconds");
  check_error(header(0, 1, 96) + track(b({0x00, 0xF4}) + kEndOfTrack),
              "status byte 0xF4 is not allowed");
  check_error(header(0, 1, 96) + track(b({0x00, 0x90, 0x3C, 0x90}) + kEndOfTrack),
              "byte 25: data byte 0x90 of a channel message has its top bit set");
  check_error(header(0, 1, 96) + track(b({0x00, 0x90, 0x3C})),
              "truncated event in track 1 of 1 at byte 22 (the track chunk ends at byte 25)");
  check_error(header(0, 1, 96) + track(b({0x00, 0xFF, 0x01, 0x10, 0x41})),
              "truncated event in track 1 of 1 at byte 22");
  check_error(header(0, 1, 96) + track(b({0x00, 0xF0, 0x05, 0x41})), "truncated event");
}

TEST_CASE("midi: random and mutated bytes give a UserError or a consistent performance") {
  Performance performance = random_performance(11, 2);
  performance.notes.resize(20);
  const std::string valid = midi_bytes(performance);
  std::mt19937 rng(12345);
  int parsed = 0, rejected = 0;
  for (int trial = 0; trial < 4000; ++trial) {
    std::string bytes;
    if (trial % 4 == 0) {
      bytes = trial % 8 == 0 ? "MThd" : "";
      const size_t size = rng() % 200;
      for (size_t i = 0; i < size; ++i) bytes += static_cast<char>(rng());
    } else {
      bytes = valid;
      const int changes = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < changes; ++i) bytes[rng() % bytes.size()] = static_cast<char>(rng());
      if (trial % 4 == 3) bytes.resize(rng() % bytes.size());
    }
    INFO("trial " << trial);
    try {
      const Performance result = parse_midi(bytes, "fuzz.mid");
      ++parsed;
      for (const Note& note : result.notes) {
        CHECK(0 <= note.onset);
        CHECK(note.onset <= note.offset);
        CHECK(note.offset <= result.duration);
        CHECK((note.velocity >= 1 && note.velocity <= 127));
        CHECK((note.pitch >= 0 && note.pitch <= 127));
      }
      for (const Pedal& pedal : result.pedals) {
        CHECK(0 <= pedal.onset);
        CHECK(pedal.onset <= pedal.offset);
        CHECK(pedal.offset <= result.duration);
      }
    } catch (const mlq::UserError& error) {
      ++rejected;
      CHECK(std::string(error.what()).rfind("fuzz.mid: ", 0) == 0);
    }
  }
  CHECK(parsed > 100);
  CHECK(rejected > 100);
}

TEST_CASE("midi: read_midi names the path of a missing file") {
  TempDir dir;
  try {
    read_midi(dir / "missing.mid");
    FAIL("no error");
  } catch (const mlq::UserError& error) {
    const std::string message = error.what();
    CHECK(message == (dir / "missing.mid").string() + ": cannot read: No such file or directory");
  }
  write_file(dir / "bad.mid", "MThd");
  const std::string expected =
      (dir / "bad.mid").string() + ": truncated header (expected 14 bytes, the file has 4)";
  CHECK_THROWS_WITH_AS(read_midi(dir / "bad.mid"), expected.c_str(), mlq::UserError);
}

// ---------------------------------------------------------------- writing

TEST_CASE("midi: written bytes are format 1 with a tempo track and note-offs before note-ons") {
  // A re-struck pitch at 0.5 s and a pedal press, at 960 ticks per second.
  const Performance performance{{{0, 0.5, 60, 100}, {0.5, 1.0, 60, 90}}, {{0.25, 1.0}}, 1.5};
  const std::string header_chunk = b({'M', 'T', 'h', 'd', 0, 0, 0, 6, 0, 1, 0, 2, 0x01, 0xE0});
  const std::string conductor = track(b({0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20}) +  // 120 bpm
                                      b({0x00, 0xFF, 0x58, 0x04, 0x04, 0x02, 0x18, 0x08}) +  // 4/4
                                      kEndOfTrack);
  const std::string piano = track(b({
      0x00, 0x90, 0x3C, 0x64,        // 0: on 60
      0x81, 0x70, 0xB0, 0x40, 0x7F,  // tick 240: pedal down
      0x81, 0x70, 0x80, 0x3C, 0x40,  // tick 480: off 60 first ...
      0x00, 0x90, 0x3C, 0x5A,        // ... then on 60 again
      0x83, 0x60, 0x80, 0x3C, 0x40,  // tick 960: off 60
      0x00, 0xB0, 0x40, 0x00,        // pedal up
      0x83, 0x60, 0xFF, 0x2F, 0x00,  // end at the duration, tick 1440
  }));
  const std::string expected = header_chunk + conductor + piano;
  CHECK(midi_bytes(performance) == expected);
  check_performance(parse_midi(expected, "x.mid"), performance, 0.0);
}

TEST_CASE("midi: write then read gives the times rounded to the nearest tick") {
  TempDir dir;
  for (unsigned seed : {1u, 2u, 3u}) {
    INFO("seed " << seed);
    const Performance performance = random_performance(seed);
    write_midi(dir / "out.mid", performance);
    const Performance back = read_midi(dir / "out.mid");
    check_performance(back, on_tick_grid(performance), 1e-12);
  }
  // Times already on the grid come back bit for bit.
  const Performance grid = on_tick_grid(random_performance(4));
  check_performance(parse_midi(midi_bytes(grid), "x.mid"), grid, 0.0);
}

TEST_CASE("midi: written times are within half a tick of the performance") {
  const Performance performance = random_performance(5);
  const Performance back = parse_midi(midi_bytes(performance), "x.mid");
  REQUIRE(back.notes.size() == performance.notes.size());
  // Match notes by (pitch, order within the pitch): the sort may swap onsets closer than a tick.
  for (int pitch = 0; pitch < 128; ++pitch) {
    std::vector<Note> ours, theirs;
    for (const Note& note : performance.notes)
      if (note.pitch == pitch) ours.push_back(note);
    for (const Note& note : back.notes)
      if (note.pitch == pitch) theirs.push_back(note);
    REQUIRE(ours.size() == theirs.size());
    check_notes(theirs, ours, kHalfTick + 1e-12);
  }
  check_pedals(back.pedals, performance.pedals, kHalfTick + 1e-12);
  CHECK(std::abs(back.duration - performance.duration) <= kHalfTick + 1e-12);
}

TEST_CASE(
    "midi: overlapping same-pitch notes and presses, and zero lengths, are written readably") {
  const Performance performance{{{0, 2.0, 60, 10}, {1.0, 3.0, 60, 20}, {4.0, 4.0, 62, 30}},
                                {{0, 2.0}, {1.0, 3.0}, {5.0, 5.0}},
                                6.0};
  const Performance back = parse_midi(midi_bytes(performance), "x.mid");
  // First in first out gives the overlapping notes back; a zero length becomes one tick.
  check_performance(back, {{{0, 2.0, 60, 10}, {1.0, 3.0, 60, 20}, {4.0, 4.0 + 1 / 960.0, 62, 30}},
                           {{0, 3.0}, {5.0, 5.0 + 1 / 960.0}},
                           6.0});
}

TEST_CASE("midi: midi_bytes rejects values a MIDI file cannot hold") {
  auto with_note = [](Note note) { return Performance{{note}, {}, 10}; };
  CHECK_THROWS_AS(midi_bytes(with_note({0, 1, 128, 64})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({0, 1, -1, 64})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({0, 1, 60, 0})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({0, 1, 60, 128})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({-0.1, 1, 60, 64})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({2, 1, 60, 64})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({std::nan(""), 1, 60, 64})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(with_note({0, 1e9, 60, 64})), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes({{}, {{3, 2}}, 10}), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes({{}, {}, std::numeric_limits<double>::infinity()}),
                  std::invalid_argument);
  CHECK_NOTHROW(midi_bytes(with_note({0, 1, 127, 127})));
}

// ---------------------------------------------------------------- other tools

TEST_CASE("midi: files we write read the same in python3-mido") {
  TempDir dir;
  for (unsigned seed : {21u, 22u}) {
    INFO("seed " << seed);
    const Performance performance = random_performance(seed);
    write_midi(dir / "ours.mid", performance);
    const Performance theirs = mido_read(dir / "ours.mid");
    // mido adds up float deltas: allow a microsecond.
    check_performance(theirs, on_tick_grid(performance), 1e-6);
    check_performance(theirs, read_midi(dir / "ours.mid"), 1e-6);
  }
}

TEST_CASE(
    "midi: a file written by python3-mido with tempo changes and running status reads right") {
  TempDir dir;
  // 384 ticks per quarter (as MAESTRO). Tempo: 500000 (768 ticks/s) from 0, 600000 (640 ticks/s)
  // from tick 768 = 1 s, 400000 (960 ticks/s) from tick 1536 = 2.2 s.
  mido_write(dir / "mido.mid",
             "tpq 384\n"
             "track\n"
             "tempo 0 500000\n"
             "text 10 conductor\n"
             "tempo 768 600000\n"
             "tempo 1536 400000\n"
             "track\n"
             "program 0 0 0\n"
             "cc 0 0 64 127\n"
             "on 192 0 60 80\n"
             "on 192 0 64 70\n"
             "on 576 0 60 0\n"
             "sysex 600\n"
             "off 960 0 64 40\n"
             "cc 1000 0 64 0\n"
             "on 1536 1 67 100\n"
             "text 1600 hello\n"
             "on 1728 1 67 0\n"
             "on 1728 0 72 50\n"
             "cc 1920 0 7 100\n");
  const std::string bytes = mlq::test::read_file(dir / "mido.mid");
  // mido wrote running status: the second note-on has no status byte of its own.
  CHECK(bytes.find(b({0x90, 0x3C, 0x50, 0x00, 0x40, 0x46})) != std::string::npos);
  const Performance ours = read_midi(dir / "mido.mid");
  check_performance(
      ours,
      {{{0.25, 0.75, 60, 80}, {0.25, 1.3, 64, 70}, {2.2, 2.4, 67, 100}, {2.4, 2.6, 72, 50}},
       {{0, 1.0 + 232 / 640.0}},
       2.6},
      1e-12);
  check_performance(ours, mido_read(dir / "mido.mid"), 1e-6);
}

TEST_CASE("midi: random multi-track files written by python3-mido read as mido reads them") {
  TempDir dir;
  for (unsigned seed : {31u, 32u, 33u}) {
    INFO("seed " << seed);
    std::mt19937 rng(seed);
    // Tempo changes in the first track, notes in three more, one channel each (mido's reading
    // merges tracks, so pitches are paired per channel, ours per track and channel), the pedal in
    // one (mido's presses are per channel, ours merged over channels).
    std::ostringstream spec;
    spec << "tpq " << 96 + rng() % 900 << "\ntrack\n";
    for (int i = 0; i < 8; ++i)
      spec << "tempo " << rng() % 20000 << " " << 200000 + rng() % 1000000 << "\n";
    for (int channel = 0; channel < 3; ++channel) {
      spec << "track\n";
      for (int i = 0; i < 150; ++i) {
        const unsigned tick = rng() % 20000;
        switch (rng() % 4) {
          case 0:
            spec << "cc " << tick << " " << channel << (channel == 0 ? " 64 " : " 7 ")
                 << rng() % 128 << "\n";
            break;
          case 1:
            spec << "off " << tick << " " << channel << " " << 60 + rng() % 8 << " 64\n";
            break;
          default:  // note-on, a fifth of them with velocity 0
            spec << "on " << tick << " " << channel << " " << 60 + rng() % 8 << " "
                 << (rng() % 5 == 0 ? 0 : 1 + rng() % 127) << "\n";
        }
      }
    }
    mido_write(dir / "random.mid", spec.str());
    const Performance ours = read_midi(dir / "random.mid");
    CHECK(ours.notes.size() > 100);
    CHECK(ours.pedals.size() > 5);
    const Performance theirs = mido_read(dir / "random.mid");
    check_performance(ours, theirs, 1e-6);
  }
}

TEST_CASE("midi: fluidsynth plays a written file at the written times") {
  const std::string soundfont = "/usr/share/sounds/sf2/TimGM6mb.sf2";
  if (!fs::exists("/usr/bin/fluidsynth") || !fs::exists(soundfont)) {
    MESSAGE("fluidsynth or " << soundfont << " missing: not checked");
    return;
  }
  TempDir dir;
  write_midi(dir / "two.mid", {{{1.0, 1.5, 60, 100}, {2.0, 2.5, 67, 100}}, {}, 3.0});
  auto result = run_process({"/usr/bin/fluidsynth", "-ni", "-q", "-R", "0", "-C", "0", "-r",
                             "16000", "-T", "wav", "-O", "s16", "-F", (dir / "two.wav").string(),
                             soundfont, (dir / "two.mid").string()});
  REQUIRE_MESSAGE(result.exit_code == 0, result.out);
  int channels = 0, rate = 0;
  const std::vector<int16_t> samples =
      wav_samples(mlq::test::read_file(dir / "two.wav"), channels, rate);
  REQUIRE(channels > 0);
  REQUIRE(rate == 16000);
  const double before = rms(samples, channels, rate, 0.0, 0.95);
  const double first = rms(samples, channels, rate, 1.02, 1.45);
  const double second = rms(samples, channels, rate, 2.02, 2.45);
  INFO("rms before " << before << ", first note " << first << ", second note " << second);
  CHECK(before < 1.0);
  CHECK(first > 100.0);
  CHECK(second > 100.0);
}

// ---------------------------------------------------------------- sustain-pedal extension

TEST_CASE("midi: notes released while the pedal is down last until it is released") {
  const std::vector<Pedal> pedals = {{1.0, 3.0}};
  const std::vector<Note> notes = {
      {0.0, 0.5, 60, 1},  // released before the press: unchanged
      {0.2, 1.0, 61, 2},  // released exactly at the press: unchanged (strictly inside only)
      {0.5, 2.0, 62, 3},  // released during the press: until the release
      {1.5, 3.0, 63, 4},  // released exactly at the release: unchanged
      {2.0, 4.0, 64, 5},  // released after the release: unchanged
      {3.5, 3.8, 65, 6},  // after the press: unchanged
  };
  check_notes(extend_offsets_by_pedal(notes, pedals), {{0.0, 0.5, 60, 1},
                                                       {0.2, 1.0, 61, 2},
                                                       {0.5, 3.0, 62, 3},
                                                       {1.5, 3.0, 63, 4},
                                                       {2.0, 4.0, 64, 5},
                                                       {3.5, 3.8, 65, 6}});
  check_notes(extend_offsets_by_pedal(notes, {}), notes);
  CHECK(extend_offsets_by_pedal({}, pedals).empty());
}

TEST_CASE("midi: a key struck again under the pedal cuts the sustained note") {
  // Pedal down 0..5. 60 is released at 1 and struck again at 2 (released at 3, inside): the
  // first is sustained until 2, the second until 5. Struck a third time at 4 and released after
  // the pedal: the reference leaves the second one sustained over it.
  check_notes(extend_offsets_by_pedal(
                  {{0, 1, 60, 10}, {2, 3, 60, 20}, {4, 6, 60, 30}, {0.5, 1.5, 64, 40}}, {{0, 5}}),
              {{0, 2, 60, 10}, {0.5, 5, 64, 40}, {2, 5, 60, 20}, {4, 6, 60, 30}});
}

TEST_CASE("midi: pedal extension walks notes in offset order and checks each against every press") {
  // Presses 0..1 and 2..4. The note released at 3 ends the walk of the first press (3 > 1); it is
  // released while the second press is down, so it is extended (the reference skips it).
  check_notes(extend_offsets_by_pedal({{0.5, 3, 60, 1}, {2.5, 3.5, 62, 2}}, {{2, 4}, {0, 1}}),
              {{0.5, 4, 60, 1}, {2.5, 4, 62, 2}});
  // A note struck and released within the second press is extended too, and re-striking 60
  // under the second press cuts nothing of the first press's note 60.
  check_notes(extend_offsets_by_pedal({{0, 1, 60, 10}, {2.5, 3, 60, 20}, {2.6, 3.2, 61, 30}},
                                      {{0.5, 2}, {2.2, 4}}),
              {{0, 2, 60, 10}, {2.5, 4, 60, 20}, {2.6, 4, 61, 30}});
  // Overlapping notes of one pitch released in the other order: the cut stops at the note's own
  // onset instead of giving it a negative length.
  check_notes(extend_offsets_by_pedal({{0.5, 4, 60, 1}, {1, 3, 60, 2}}, {{0, 10}}),
              {{0.5, 10, 60, 1}, {1, 1, 60, 2}});
}
