#include "data/synth.hpp"

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <map>
#include <memory>

#include "data/families.hpp"
#include "data/phrase.hpp"

namespace mlq::classification {
namespace fs = std::filesystem;
namespace {

const char* const kSplits[] = {"train", "validation", "test"};
const std::vector<std::string> kColumns{"filename", "label", "split", "program", "soundfont"};

struct Job {
  size_t family;
  uint64_t seed;  // the phrase's
  std::string split;
  std::string soundfont;
  std::string file;  // relative to destination_path
};

constexpr uint64_t kAttempts = 8;
constexpr float kAudiblePeak = 0.01f;  // -40 dBFS

float peak(const std::vector<float>& audio) {
  float p = 0;
  for (float x : audio) p = std::max(p, std::abs(x));
  return p;
}

}  // namespace

SynthOptions SynthOptions::from(const Config& c) {
  c.check_known_keys("", {"destination_path", "clips", "clip_seconds", "seed", "sample_rate",
                          "soundfonts", "eval_soundfonts", "metadata", "workers"});
  SynthOptions o;
  o.destination_path = c.get_string("destination_path");
  if (c.has("clips")) o.clips = c.get_ints("clips", Range::at_least(0));
  o.clip_seconds = c.get_double("clip_seconds", o.clip_seconds, Range::between(0.5, 60));
  o.seed = c.get_int("seed", o.seed);
  o.sample_rate = c.get_double("sample_rate", o.sample_rate, Range::between(8000, 96000));
  SynthSoundfonts fonts = read_synth_soundfonts(c);
  o.soundfonts = std::move(fonts.soundfonts);
  o.eval_soundfonts = std::move(fonts.eval_soundfonts);
  o.metadata = c.get_string("metadata", o.metadata);
  o.workers = c.get_int("workers", o.workers, Range::at_least(1));
  auto bad = [&](const char* key, const std::string& expected) {
    return ConfigError(
        fmt::format("config key 'data.synth.{}' ({}): expected {}", key, c.origin(key), expected));
  };
  if (o.clips.size() != 3 || o.clips[0] < 1)
    throw bad("clips", "[train, validation, test] clips per family, at least one train clip");
  return o;
}

std::string SynthOptions::stamp() const {
  return fmt::format(
      "clips = [{}]\nclip_seconds = {}\nseed = {}\nsample_rate = {}\nsoundfonts = [{}]\n"
      "eval_soundfonts = [{}]\nmetadata = {}\n",
      fmt::join(clips, ", "), clip_seconds, seed, sample_rate, fmt::join(soundfonts, ", "),
      fmt::join(eval_soundfonts, ", "), in_quotes(metadata));
}

std::string SynthOptions::eval_metadata(const std::string& soundfont) const {
  return eval_metadata_name(metadata, soundfont);
}

SynthReport synthesize(const SynthOptions& o) {
  const auto start = std::chrono::steady_clock::now();
  if (synth_data_up_to_date(o.destination_path, o.stamp(), o.metadata,
                            {o.soundfonts, o.eval_soundfonts}))
    return {};

  const std::vector<Family>& families = nsynth_families();
  std::vector<Job> jobs;
  for (size_t f = 0; f < families.size(); ++f) {
    int64_t clip = 0;
    for (int split = 0; split < 3; ++split)
      for (int64_t i = 0; i < o.clips[split]; ++i, ++clip) {
        // The phrase depends on the seed, the family and the clip's number only.
        uint64_t state = static_cast<uint64_t>(o.seed) * 0x9E3779B97F4A7C15ULL + f * 1000003 +
                         static_cast<uint64_t>(clip);
        const uint64_t seed = splitmix64(state);
        const std::string name =
            fmt::format("{}/{}-{:05d}.wav", families[f].name, families[f].name, clip);
        jobs.push_back({f, seed, kSplits[split],
                        o.soundfonts[static_cast<size_t>(clip) % o.soundfonts.size()],
                        "clips/" + name});
        if (split == 2)
          for (const auto& eval : o.eval_soundfonts)
            jobs.push_back(
                {f, seed, kSplits[split], eval, "eval-" + soundfont_name(eval) + "/" + name});
      }
  }

  std::vector<std::vector<std::string>> rows;
  std::map<std::string, std::vector<std::vector<std::string>>> eval_rows;
  std::vector<int> programs(jobs.size());
  std::atomic<int64_t> done{0};
  ProgressLine progress;
  const auto samples = static_cast<size_t>(std::llround(o.clip_seconds * o.sample_rate));
  run_parallel(jobs.size(), o.workers, [&](size_t j) {
    thread_local std::map<std::string, std::unique_ptr<SoundfontRenderer>> renderers;
    const Job& job = jobs[j];
    auto& renderer = renderers[job.soundfont];
    if (!renderer || renderer->sample_rate() != o.sample_rate)
      renderer = std::make_unique<SoundfontRenderer>(job.soundfont, o.sample_rate);
    // A phrase a preset leaves (nearly) silent, such as staccato notes of a slow-attack pad,
    // would be a clip without its class: another phrase is drawn instead.
    Phrase phrase;
    std::vector<float> audio;
    for (uint64_t attempt = 0; attempt < kAttempts; ++attempt) {
      phrase = compose_phrase(families[job.family], job.seed + attempt * 0x9E3779B97F4A7C15ULL,
                              o.clip_seconds);
      renderer->select_program(phrase.program);
      audio = renderer->render(phrase.performance, o.clip_seconds);
      audio.resize(samples, 0.f);
      if (peak(audio) >= kAudiblePeak) break;
    }
    fs::create_directories((o.destination_path / job.file).parent_path());
    write_audio(o.destination_path / job.file, audio, o.sample_rate);
    programs[j] = phrase.program;
    progress.update("synth", ++done, static_cast<int64_t>(jobs.size()), "clips");
  });
  progress.finish();

  for (size_t j = 0; j < jobs.size(); ++j) {
    const Job& job = jobs[j];
    std::vector<std::string> row{job.file, families[job.family].name, job.split,
                                 std::to_string(programs[j]), soundfont_name(job.soundfont)};
    const bool eval = job.file.rfind("eval-", 0) == 0;
    (eval ? eval_rows[job.soundfont] : rows).push_back(std::move(row));
  }
  write_csv_atomic(o.destination_path / o.metadata, kColumns, rows);
  for (const auto& [soundfont, listed] : eval_rows)
    write_csv_atomic(o.destination_path / o.eval_metadata(soundfont), kColumns, listed);
  write_file_atomic(o.destination_path / kSynthStampFile, o.stamp());
  SynthReport report;
  report.rendered = static_cast<int64_t>(jobs.size());
  report.audio_seconds = o.clip_seconds * static_cast<double>(jobs.size());
  report.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace mlq::classification
