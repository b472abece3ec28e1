#pragma once
// The runner commands the transcription plugin adds.
#include <string>
#include <vector>

#include "eval/postprocess.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

// runner score REF.mid EST.mid [--json]: mir_eval-exact note and frame metrics of two files.
int score_command(const std::vector<std::string>& args, const Registry& registry);
// runner predict --checkpoint=CKPT AUDIO... -o DIR: MIDI transcriptions of audio files.
int predict_command(const std::vector<std::string>& args, const Registry& registry);
// runner predict --stream: note events as the audio arrives (stream_command.cpp), with the
// predict options already checked, the model loaded and the post-processing options set.
int stream_predict(const cxxopts::ParseResult& result, const PredictRun& run,
                   std::shared_ptr<Model> model, const PostprocessOptions& postprocess, double bpm);
// runner synth --config=F [overrides]: the synthetic data set of [data.synth].
int synth_command(const std::vector<std::string>& args, const Registry& registry);

}  // namespace mlq::transcription
