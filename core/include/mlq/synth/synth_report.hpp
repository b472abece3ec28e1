#pragma once
// What the tasks' data-set synthesisers (`runner synth`) share: the report of a run, when a data
// set already made can be kept, and the check of the soundfonts before anything is rendered.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace mlq {

struct SynthReport {
  int64_t rendered = 0;  // 0 when the data set was already up to date
  double audio_seconds = 0;
  double wall_seconds = 0;
};

// "synth: rendered 130 pieces (65.0 min of audio) in 31.0 s (126x real time); metadata: F", or
// "synth: F is up to date" when nothing was rendered. `unit`: what was rendered ("pieces").
std::string describe_synth(const SynthReport& report, const std::string& unit,
                           const std::filesystem::path& metadata);

// Whether a data set made with `stamp` (the canonical text of every option that changes it) is
// there: `stamp_file` holds exactly that text and every one of `outputs` exists.
bool synth_up_to_date(const std::filesystem::path& stamp_file, const std::string& stamp,
                      const std::vector<std::filesystem::path>& outputs);

// Every soundfont is a regular file; else a UserError "<path>: no such soundfont (<key>)".
void check_soundfonts(const std::vector<std::string>& soundfonts, const std::string& key);

}  // namespace mlq
