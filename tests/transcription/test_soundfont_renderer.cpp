#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "data/composer.hpp"
#include "mlq/synth/soundfont_renderer.hpp"
#include "mlq/util/error.hpp"
#include "support/temp_dir.hpp"

using mlq::Note;
using mlq::Pedal;
using mlq::Performance;
using mlq::SoundfontRenderer;
using mlq::test::read_file;
using mlq::test::TempDir;
using mlq::test::write_file;
using mlq::transcription::compose_piece;
using mlq::transcription::ComposerOptions;
using mlq::transcription::piece_seed;

namespace {

const char* kSoundfont = mlq::kDefaultSoundfont;
constexpr double kRate = 16000;

SoundfontRenderer& renderer() {
  REQUIRE_MESSAGE(std::filesystem::exists(kSoundfont), "install timgm6mb-soundfont");
  static SoundfontRenderer instance(kSoundfont, kRate);
  return instance;
}

Performance piece(std::vector<Note> notes, std::vector<Pedal> pedals = {}) {
  Performance p;
  for (const Note& n : notes) p.duration = std::max(p.duration, n.offset);
  for (const Pedal& n : pedals) p.duration = std::max(p.duration, n.offset);
  p.notes = std::move(notes);
  p.pedals = std::move(pedals);
  return p;
}

Performance short_piece(int index) {
  ComposerOptions options;
  options.duration_seconds = 3;
  return compose_piece(piece_seed(99, index), options);
}

double rms(const std::vector<float>& x, double from_seconds, double to_seconds) {
  const auto from = static_cast<size_t>(from_seconds * kRate);
  const auto to = std::min(x.size(), static_cast<size_t>(to_seconds * kRate));
  double sum = 0;
  for (size_t i = from; i < to; ++i) sum += static_cast<double>(x[i]) * x[i];
  return to > from ? std::sqrt(sum / static_cast<double>(to - from)) : 0;
}

float peak(const std::vector<float>& x) {
  float most = 0;
  for (float v : x) most = std::max(most, std::abs(v));
  return most;
}

// Runs `f` with stderr sent to /dev/null: fluidsynth hands files its own loader rejects to
// libinstpatch, which prints glib warnings there.
template <typename F>
std::string without_stderr(F f) {
  std::fflush(stderr);
  const int saved = dup(2);
  const int null = open("/dev/null", O_WRONLY);
  dup2(null, 2);
  close(null);
  std::string result = f();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  return result;
}

std::string error_of(const std::filesystem::path& path) {
  try {
    SoundfontRenderer r(path, kRate);
  } catch (const mlq::UserError& e) {
    return e.what();
  }
  return "no error";
}

}  // namespace

TEST_CASE("piano renderer: a piece renders bit-identically whatever was rendered before") {
  const Performance a = short_piece(1), b = short_piece(2);
  const std::vector<float> first = renderer().render(a);
  REQUIRE(peak(first) > 0.01f);
  renderer().render(b);
  CHECK(renderer().render(a) == first);
  CHECK(renderer().render(a) == first);
  SoundfontRenderer fresh(kSoundfont, kRate);
  CHECK(fresh.render(a) == first);
  CHECK(renderer().render(b) != first);
}

TEST_CASE("piano renderer: the output lasts the duration plus the tail") {
  const Performance p = piece({{0.1, 0.5, 60, 80}});
  CHECK(renderer().render(p, 1.0).size() == 24000);
  CHECK(renderer().render(p, 0.25).size() == 12000);
  CHECK(renderer().render(p, 0).size() == 8000);
  SoundfontRenderer other(kSoundfont, 22050);
  CHECK(other.render(p, 1.0).size() == static_cast<size_t>(std::llround(1.5 * 22050)));
  CHECK(renderer().render(Performance{}, 0.5).size() == 8000);
  // A note starting in the last block, rendered without a tail: its note-off (one block after
  // the note-on) lies past the end and must not be written there.
  for (double onset : {0.999, 1.0, 1.2}) {
    Performance late{{{onset, 1.0, 60, 100}}, {}, 1.0};
    CHECK(renderer().render(late, 0).size() == 16000);
  }
}

TEST_CASE("piano renderer: a note sounds from its onset, within fluidsynth's 64-sample block") {
  for (double onset : {0.5, 0.5123, 0.731}) {
    for (auto [pitch, velocity] : {std::pair{60, 100}, std::pair{33, 40}, std::pair{96, 70}}) {
      CAPTURE(onset);
      CAPTURE(pitch);
      const std::vector<float> x =
          renderer().render(piece({{onset, onset + 0.5, pitch, velocity}}));
      CHECK(peak(std::vector<float>(x.begin(),
                                    x.begin() + static_cast<long>(onset * kRate) - 40)) == 0.0f);
      const float top = peak(x);
      const auto first = static_cast<double>(
          std::find_if(x.begin(), x.end(), [&](float v) { return std::abs(v) > 0.05f * top; }) -
          x.begin());
      CHECK(first / kRate >= onset - 0.0025);  // half a block early at most
      CHECK(first / kRate <= onset + 0.008);   // half a block late plus the attack
      CHECK(rms(x, onset + 0.005, onset + 0.05) > 0.1 * top);
    }
  }
}

TEST_CASE("piano renderer: silence where nothing plays, and the tail decays") {
  const std::vector<float> x =
      renderer().render(piece({{0.2, 0.4, 64, 90}, {2.5, 2.7, 67, 90}}), 2.0);
  const double loud = rms(x, 0.2, 0.4);
  CHECK(loud > 0.005);
  CHECK(rms(x, 0, 0.19) == 0);
  CHECK(rms(x, 1.6, 2.49) < 0.01 * loud);  // the first note has died away
  CHECK(rms(x, 4.2, 4.7) < 0.01 * loud);   // and so has the second
  CHECK(rms(x, 2.5, 2.7) > 0.5 * loud);
}

TEST_CASE("piano renderer: the sustain pedal holds notes after their release") {
  const Performance dry = piece({{0.1, 0.3, 55, 100}});
  const Performance wet = piece({{0.1, 0.3, 55, 100}}, {{0.05, 1.5}});
  const std::vector<float> a = renderer().render(dry, 1.0), b = renderer().render(wet, 0.0);
  REQUIRE(a.size() == 20800);
  REQUIRE(b.size() == 24000);
  CHECK(rms(b, 0.8, 1.2) > 5 * rms(a, 0.8, 1.2));
  CHECK(rms(b, 0.1, 0.3) == doctest::Approx(rms(a, 0.1, 0.3)).epsilon(1e-6));
}

TEST_CASE("piano renderer: dense fortissimo chords do not clip") {
  std::vector<Note> notes;
  for (int chord = 0; chord < 20; ++chord)
    for (int pitch : {24, 36, 43, 48, 52, 55, 60, 64, 67, 72})
      notes.push_back({0.1 * chord, 0.1 * chord + 0.09, pitch + chord % 3, 127});
  const std::vector<float> x = renderer().render(piece(notes, {{0, 2.5}}), 0.5);
  CHECK(peak(x) <= 1.0f);
  CHECK(peak(x) > 0.1f);
  CHECK(std::all_of(x.begin(), x.end(), [](float v) { return std::isfinite(v); }));
}

TEST_CASE("piano renderer: bad soundfonts and settings are user errors naming the path") {
  TempDir dir;
  const std::string missing = (dir / "missing.sf2").string();
  CHECK(error_of(missing) == missing + ": no such file");
  CHECK(error_of(dir.path()) == dir.path().string() + ": not a regular file");

  const std::string not_soundfont =
      ": cannot load soundfont (not a SoundFont 2/3 file, or truncated)";
  write_file(dir / "text.sf2", "this is not a soundfont\n");
  CHECK(error_of(dir / "text.sf2") == (dir / "text.sf2").string() + not_soundfont);
  write_file(dir / "empty.sf3", "");
  CHECK(error_of(dir / "empty.sf3") == (dir / "empty.sf3").string() + not_soundfont);
  write_file(dir / "truncated.sf2", read_file(kSoundfont).substr(0, 100000));
  CHECK(error_of(dir / "truncated.sf2") == (dir / "truncated.sf2").string() + not_soundfont);

  // A whole RIFF sfbk file with a broken inside gets to fluidsynth, whose reason is kept.
  write_file(dir / "broken.sf2", std::string("RIFF\x10\0\0\0sfbkLIST\x04\0\0\0XXXX", 24));
  const std::string broken = without_stderr([&] { return error_of(dir / "broken.sf2"); });
  CHECK(broken.rfind((dir / "broken.sf2").string() + ": cannot load soundfont (", 0) == 0);
  CHECK(broken.find("not a SoundFont") == std::string::npos);
  CHECK(broken.find('\n') == std::string::npos);

  CHECK_THROWS_WITH_AS(SoundfontRenderer(kSoundfont, 4000), doctest::Contains("8000..96000"),
                       mlq::UserError);
  mlq::RenderOptions no_preset;
  no_preset.program = 200;
  CHECK_THROWS_WITH_AS(SoundfontRenderer(kSoundfont, kRate, no_preset),
                       doctest::Contains("no preset 200"), mlq::UserError);
}
