#include "data/synth.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>

#include "data/composer.hpp"
#include "data/midi_file.hpp"
#include "mlq/plugin_base.hpp"
#include "mlq/synth/soundfont_renderer.hpp"

namespace mlq::transcription {
namespace fs = std::filesystem;
namespace {

constexpr int kYear = 2026;
const char* const kSplits[] = {"train", "validation", "test"};

struct Job {
  int64_t piece;
  std::string split;
  std::string soundfont;
  int program;       // General MIDI
  std::string name;  // relative path without extension
};

}  // namespace

SynthOptions SynthOptions::from(const Config& c) {
  c.check_known_keys("", {"destination_path", "pieces", "piece_seconds", "seed", "sample_rate",
                          "max_polyphony", "pedal_probability", "soundfonts", "eval_soundfonts",
                          "train_programs", "metadata", "workers"});
  SynthOptions o;
  o.destination_path = c.get_string("destination_path");
  if (c.has("pieces")) o.pieces = c.get_ints("pieces");
  o.piece_seconds = c.get_double("piece_seconds", o.piece_seconds);
  o.seed = c.get_int("seed", o.seed);
  o.sample_rate = c.get_double("sample_rate", o.sample_rate, Range::above(0));
  o.max_polyphony = c.get_int("max_polyphony", o.max_polyphony, Range::at_least(1));
  o.pedal_probability = c.get_double("pedal_probability", o.pedal_probability, Range::unit());
  SynthSoundfonts fonts = read_synth_soundfonts(c);
  o.soundfonts = std::move(fonts.soundfonts);
  o.eval_soundfonts = std::move(fonts.eval_soundfonts);
  if (c.has("train_programs")) o.train_programs = c.get_ints("train_programs");
  o.metadata = c.get_string("metadata", o.metadata);
  o.workers = c.get_int("workers", o.workers, Range::at_least(1));
  auto bad = [&](const char* key, const std::string& expected) {
    return ConfigError(
        fmt::format("config key 'data.synth.{}' ({}): expected {}", key, c.origin(key), expected));
  };
  if (o.pieces.size() != 3 || o.pieces[0] < 1 || o.pieces[1] < 0 || o.pieces[2] < 0)
    throw bad("pieces", "[train, validation, test] piece counts, at least one train piece");
  if (o.piece_seconds < 2) throw bad("piece_seconds", "at least 2 seconds");
  if (o.train_programs.empty() ||
      std::any_of(o.train_programs.begin(), o.train_programs.end(),
                  [](int64_t program) { return program < 0 || program > 127; }))
    throw bad("train_programs", "a non-empty list of General MIDI programs, 0 to 127");
  return o;
}

std::string SynthOptions::stamp() const {
  return fmt::format(
      "pieces = [{}]\npiece_seconds = {}\nseed = {}\nsample_rate = {}\nmax_polyphony = {}\n"
      "pedal_probability = {}\nsoundfonts = [{}]\neval_soundfonts = [{}]\n{}metadata = {}\n",
      fmt::join(pieces, ", "), piece_seconds, seed, sample_rate, max_polyphony, pedal_probability,
      fmt::join(soundfonts, ", "), fmt::join(eval_soundfonts, ", "),
      // Absent when default, so that data sets made before the key existed are kept.
      train_programs == std::vector<int64_t>{0}
          ? ""
          : fmt::format("train_programs = [{}]\n", fmt::join(train_programs, ", ")),
      in_quotes(metadata));
}

std::string SynthOptions::eval_metadata(const std::string& soundfont) const {
  return eval_metadata_name(metadata, soundfont);
}

SynthReport synthesize(const SynthOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (synth_data_up_to_date(o.destination_path, o.stamp(), o.metadata,
                            {o.soundfonts, o.eval_soundfonts}))
    return {};

  std::vector<Job> jobs;
  std::vector<MaestroRecord> records;
  std::map<std::string, std::vector<MaestroRecord>> eval_records;
  int64_t piece = 0;
  for (int split = 0; split < 3; ++split)
    for (int64_t i = 0; i < o.pieces[split]; ++i, ++piece) {
      const size_t fonts = o.soundfonts.size();
      const std::string soundfont = o.soundfonts[piece % fonts];
      const int program =
          split == 0
              ? static_cast<int>(
                    o.train_programs[(static_cast<size_t>(i) / fonts) % o.train_programs.size()])
              : 0;
      jobs.push_back({piece, kSplits[split], soundfont, program,
                      fmt::format("{}/piece-{:04d}", kYear, piece)});
      if (split == 2)
        for (const auto& eval : o.eval_soundfonts)
          jobs.push_back({piece, kSplits[split], eval, 0,
                          fmt::format("eval-{}/piece-{:04d}", soundfont_name(eval), piece)});
    }
  const double seconds = o.piece_seconds + 1.0;  // the renderer's release tail
  for (const Job& job : jobs) {
    MaestroRecord record{
        "ML-Quickstart synthesiser",
        fmt::format("Piece {} ({}{})", job.piece, soundfont_name(job.soundfont),
                    job.program == 0 ? "" : fmt::format(", program {}", job.program)),
        job.split,
        kYear,
        job.name + ".midi",
        job.name + ".wav",
        seconds};
    const bool eval = job.name.rfind("eval-", 0) == 0;
    (eval ? eval_records[job.soundfont] : records).push_back(record);
  }

  ComposerOptions composer;
  composer.duration_seconds = o.piece_seconds;
  composer.max_polyphony = static_cast<int>(o.max_polyphony);
  composer.pedal_probability = o.pedal_probability;
  std::atomic<int64_t> done{0};
  ProgressLine progress;
  run_parallel(jobs.size(), o.workers, [&](size_t j) {
    thread_local std::map<std::string, std::unique_ptr<SoundfontRenderer>> renderers;
    const Job& job = jobs[j];
    const Performance performance =
        compose_piece(piece_seed(static_cast<uint64_t>(o.seed), job.piece), composer);
    auto& renderer = renderers[job.soundfont];
    if (!renderer || renderer->sample_rate() != o.sample_rate)
      renderer = std::make_unique<SoundfontRenderer>(job.soundfont, o.sample_rate);
    renderer->select_program(job.program);
    std::vector<float> audio = renderer->render(performance, 1.0);
    audio.resize(static_cast<size_t>(std::llround(seconds * o.sample_rate)), 0.f);
    fs::create_directories((o.destination_path / job.name).parent_path());
    write_midi(o.destination_path / (job.name + ".midi"), performance);
    write_audio(o.destination_path / (job.name + ".wav"), audio, o.sample_rate);
    progress.update("synth", ++done, static_cast<int64_t>(jobs.size()), "pieces");
  });
  progress.finish();

  write_maestro_csv(o.destination_path / o.metadata, records);
  for (const auto& [soundfont, rows] : eval_records)
    write_maestro_csv(o.destination_path / o.eval_metadata(soundfont), rows);
  write_file_atomic(o.destination_path / kSynthStampFile, o.stamp());
  SynthReport report;
  report.rendered = static_cast<int64_t>(jobs.size());
  report.audio_seconds = seconds * static_cast<double>(jobs.size());
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace mlq::transcription
