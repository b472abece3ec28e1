#include "mlq/synth/synth_report.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "mlq/synth/soundfont_renderer.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"

namespace mlq {
namespace fs = std::filesystem;

std::string describe_synth(const SynthReport& report, const std::string& unit,
                           const fs::path& metadata) {
  if (report.rendered == 0) return fmt::format("synth: {} is up to date", metadata.string());
  return fmt::format(
      "synth: rendered {} {} ({:.1f} min of audio) in {:.1f} s ({:.0f}x real time); metadata: {}",
      report.rendered, unit, report.audio_seconds / 60, report.wall_seconds,
      report.audio_seconds / std::max(report.wall_seconds, 1e-9), metadata.string());
}

bool synth_up_to_date(const fs::path& stamp_file, const std::string& stamp,
                      const std::vector<fs::path>& outputs) {
  std::error_code error;
  if (!fs::exists(stamp_file, error) || read_file_bytes(stamp_file) != stamp) return false;
  return std::all_of(outputs.begin(), outputs.end(),
                     [&](const fs::path& output) { return fs::exists(output, error); });
}

void check_soundfonts(const std::vector<std::string>& soundfonts, const std::string& key) {
  std::error_code error;
  for (const auto& soundfont : soundfonts)
    if (!fs::is_regular_file(soundfont, error))
      throw UserError(soundfont + ": no such soundfont (" + key + ")");
}

SynthSoundfonts read_synth_soundfonts(const Config& c) {
  SynthSoundfonts s;
  s.soundfonts = c.has("soundfonts") ? c.get_strings("soundfonts")
                                     : std::vector<std::string>{kDefaultSoundfont};
  if (c.has("eval_soundfonts")) s.eval_soundfonts = c.get_strings("eval_soundfonts");
  auto bad = [&](const char* key, const std::string& expected) {
    return ConfigError(
        fmt::format("config key 'data.synth.{}' ({}): expected {}", key, c.origin(key), expected));
  };
  if (s.soundfonts.empty()) throw bad("soundfonts", "at least one soundfont path");
  for (const auto& soundfont : s.soundfonts)
    for (const auto& eval : s.eval_soundfonts)
      if (soundfont_name(soundfont) == soundfont_name(eval))
        throw bad("eval_soundfonts",
                  "soundfonts the model does not train on, but " + eval + " is in soundfonts");
  return s;
}

std::string soundfont_name(const std::string& soundfont) {
  return fs::path(soundfont).stem().string();
}

std::string eval_metadata_name(const std::string& metadata, const std::string& soundfont) {
  const fs::path file(metadata);
  return file.stem().string() + "-eval-" + soundfont_name(soundfont) + file.extension().string();
}

bool synth_data_up_to_date(const fs::path& destination, const std::string& stamp,
                           const std::string& metadata, const SynthSoundfonts& soundfonts) {
  std::vector<fs::path> outputs{destination / metadata};
  for (const auto& eval : soundfonts.eval_soundfonts)
    outputs.push_back(destination / eval_metadata_name(metadata, eval));
  if (synth_up_to_date(destination / kSynthStampFile, stamp, outputs)) return true;
  check_soundfonts(soundfonts.soundfonts, "data.synth.soundfonts");
  check_soundfonts(soundfonts.eval_soundfonts, "data.synth.eval_soundfonts");
  return false;
}

}  // namespace mlq
