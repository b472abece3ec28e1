#pragma once
// `runner synth --task=classification`: the embedded default data set. Short phrases of the
// General MIDI programs of each NSynth family (data/families.hpp), rendered with FluidSynth into
// a folder per family, listed in a CSV (filename,label,split,program,soundfont) that
// `runner preprocess` reads with the "class_csv" parser, as it reads a user's own CSV.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/plugin_base.hpp"

namespace mlq::classification {

// [data.synth]
struct SynthOptions {
  std::filesystem::path destination_path;
  std::vector<int64_t> clips{160, 30, 30};  // per family: train, validation, test
  double clip_seconds = 2;
  int64_t seed = 0;
  double sample_rate = 16000;
  // Clip i of a family is rendered with soundfonts[i % n]; the test clips are rendered again with
  // each evaluation soundfont (timbres the model never trains on), listed in a CSV of their own.
  std::vector<std::string> soundfonts{kDefaultSoundfont};
  std::vector<std::string> eval_soundfonts;
  std::string metadata = "synth-classes.csv";
  int64_t workers = 2;

  static SynthOptions from(const Config& synth_config);
  // Every option that changes the output: a data set made with other options is made again.
  std::string stamp() const;
  // The metadata file listing the test clips rendered with `soundfont`.
  std::string eval_metadata(const std::string& soundfont) const;
};

SynthReport synthesize(const SynthOptions& options);

}  // namespace mlq::classification
