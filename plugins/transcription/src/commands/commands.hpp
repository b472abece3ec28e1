#pragma once
// The runner commands the transcription plugin adds.
#include <string>
#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::transcription {

// runner score REF.mid EST.mid [--json]: mir_eval-exact note and frame metrics of two files.
int score_command(const std::vector<std::string>& args, const Registry& registry);
// runner predict --checkpoint=CKPT AUDIO... -o DIR: MIDI transcriptions of audio files.
int predict_command(const std::vector<std::string>& args, const Registry& registry);
// runner synth --config=F [overrides]: the synthetic data set of [data.synth].
int synth_command(const std::vector<std::string>& args, const Registry& registry);

}  // namespace mlq::transcription
