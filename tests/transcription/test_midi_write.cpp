// Writing Standard MIDI Files, checked with python3-mido and FluidSynth, and pedal extension.
#include <doctest/doctest.h>

#include "midi_fixtures.hpp"

using namespace midi_fixtures;

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

TEST_CASE("midi: the tempo of a written file is settable and does not move the notes") {
  Performance performance;
  performance.notes = {{0.5, 1.25, 60, 90}, {2.0, 2.5, 64, 70}};
  performance.pedals = {{0.4, 1.5}};
  performance.duration = 3;
  const std::string bytes = midi_bytes(performance, 90);
  // The conductor track opens with set-tempo 666,667 us per quarter (90 bpm).
  CHECK(bytes.find(b({0x00, 0xFF, 0x51, 0x03, 0x0A, 0x2C, 0x2B})) != std::string::npos);
  CHECK(bytes.find(b({0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20})) == std::string::npos);
  const Performance read = parse_midi(bytes, "x.mid");
  REQUIRE(read.notes.size() == 2);
  const double tick = 60.0 / (90 * 480);
  for (size_t i = 0; i < 2; ++i) {
    CHECK(std::abs(read.notes[i].onset - performance.notes[i].onset) <= tick / 2 + 1e-9);
    CHECK(std::abs(read.notes[i].offset - performance.notes[i].offset) <= tick / 2 + 1e-9);
  }
  REQUIRE(read.pedals.size() == 1);
  CHECK(read.pedals[0].offset == doctest::Approx(1.5).epsilon(1e-3));
  CHECK(read.duration == doctest::Approx(3).epsilon(1e-3));
  CHECK_THROWS_AS(midi_bytes(performance, 5), std::invalid_argument);
  CHECK_THROWS_AS(midi_bytes(performance, 2000), std::invalid_argument);
}
