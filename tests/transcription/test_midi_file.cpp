// Reading Standard MIDI Files: tempo maps, running status, pedals, and every kind of damage.
#include <doctest/doctest.h>

#include "midi_fixtures.hpp"

using namespace midi_fixtures;

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
