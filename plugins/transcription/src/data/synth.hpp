#pragma once
// `runner synth`: the embedded default data set. Procedurally composed pieces rendered with
// FluidSynth, written in the MAESTRO layout (<year>/<name>.wav + .midi and a MAESTRO-format CSV)
// so they flow through the same metadata parser and `runner preprocess` as real MAESTRO.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/plugin_base.hpp"

namespace mlq::transcription {

// [data.synth]
struct SynthOptions {
  std::filesystem::path destination_path;
  std::vector<int64_t> pieces{100, 10, 10};  // train, validation, test
  double piece_seconds = 30;
  int64_t seed = 0;
  double sample_rate = 16000;
  int64_t max_polyphony = 10;
  double pedal_probability = 0.5;
  // Piece i is rendered with soundfonts[i % n]; the test pieces are rendered again with each
  // evaluation soundfont (timbres the model never trained on) and listed in a CSV of their own.
  std::vector<std::string> soundfonts;
  std::vector<std::string> eval_soundfonts;
  // General MIDI pianos (0: acoustic grand, 1: bright acoustic, 2: electric grand, ...) the
  // training pieces cycle through, each soundfont with each in turn: more timbres to learn from.
  // Validation and test pieces are always the acoustic grand (0).
  std::vector<int64_t> train_programs{0};
  std::string metadata = "synth-piano.csv";
  int64_t workers = 2;

  static SynthOptions from(const Config& synth_config);
  // The canonical text of every option that changes the output: a data set made with other
  // options is made again.
  std::string stamp() const;
  // The metadata file listing the test pieces rendered with `soundfont`.
  std::string eval_metadata(const std::string& soundfont) const;
};

SynthReport synthesize(const SynthOptions& options);

}  // namespace mlq::transcription
