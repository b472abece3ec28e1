#include "mlq/synth/synth_report.hpp"

#include <fmt/format.h>

#include <algorithm>

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

}  // namespace mlq
