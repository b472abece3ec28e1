#pragma once
// What the tasks' data-set synthesisers (`runner synth`) share: the report of a run, when a data
// set already made can be kept, and the check of the soundfonts before anything is rendered.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"

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

// [data.synth] `soundfonts` (what the model trains on; default: kDefaultSoundfont) and
// `eval_soundfonts` (timbres it never trains on: none of them among the former). One-line
// ConfigErrors name the key.
struct SynthSoundfonts {
  std::vector<std::string> soundfonts, eval_soundfonts;
};
SynthSoundfonts read_synth_soundfonts(const Config& synth_config);

// The file in a synthesised data set's folder that holds the stamp it was made with.
inline constexpr const char* kSynthStampFile = "synth.toml";

// The start of a synthesiser: true when `destination` already holds the data set `stamp`
// describes (its kSynthStampFile, `metadata` and each evaluation soundfont's metadata); else every
// soundfont is checked (check_soundfonts, naming data.synth.soundfonts or eval_soundfonts) and it
// is false.
bool synth_data_up_to_date(const std::filesystem::path& destination, const std::string& stamp,
                           const std::string& metadata, const SynthSoundfonts& soundfonts);

// A soundfont's name in file and folder names: its file name without extension.
std::string soundfont_name(const std::string& soundfont);
// The metadata file listing the test items rendered again with `soundfont`:
// "synth-piano.csv" -> "synth-piano-eval-<name>.csv".
std::string eval_metadata_name(const std::string& metadata, const std::string& soundfont);

}  // namespace mlq
