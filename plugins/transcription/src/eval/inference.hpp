#pragma once
// Transcribing audio of any length as the reference does: windows of `window_seconds` over the
// audio zero-padded to whole windows, overlapping by twice `context_seconds` (by default half a
// window), run in batches, the outputs stitched (each window's frames away from its edges), then
// post-processed over the whole piece.
#include <torch/torch.h>

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "eval/pitch_ensemble.hpp"
#include "eval/postprocess.hpp"
#include "eval/stage_times.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

// Window start samples for `samples` of audio zero-padded to whole windows: every
// window - 2 * context samples, and one more ending at the padded end when they fall short.
// context = window / 4 (the default) is the reference's enframe: windows every half window.
std::vector<int64_t> window_starts(int64_t samples, int64_t window, int64_t context = -1);

// Stitches each window's output [frames, C] (frames = window / hop + 1, the last one dropped
// here), the windows starting at `start_frames`: each keeps its frames from where the previous
// one's end left off up to `context_frames` before its own end (the last one to its end). With
// the default, windows every half window and a quarter of context, it is the reference's deframe:
// the first window's first three quarters, the middle half of each next one, the last window's
// last three quarters.
torch::Tensor stitch_windows(const std::vector<torch::Tensor>& outputs,
                             std::vector<int64_t> start_frames = {}, int64_t context_frames = -1);

// The outputs post-processing reads: the notes' four, and the pedal's two when the model gives
// them.
std::vector<std::string> decoded_outputs(const TensorMap& outputs);
// Whole-piece rolls of those outputs ([frames, 88] for the notes, [frames] for the pedal), taken
// up to `frames` frames (-1: all).
ModelOutputs model_outputs(const std::map<std::string, torch::Tensor>& rolls, int64_t frames = -1);

struct TranscribeOptions {
  double window_seconds = 10;
  // What each window keeps away from its edges, where the model lacks context; -1: a quarter of
  // the window (the reference, for the recurrent models). A convolutional model needs no more than
  // its receptive field: less context, fewer windows.
  double context_seconds = -1;
  int64_t batch = 4;  // windows per forward pass
  PitchEnsemble ensemble;
  PostprocessOptions postprocess;
};

class Transcriber {
 public:
  Transcriber(std::shared_ptr<Model> model, FeatureOptions features, TranscribeOptions options);
  // `progress(done, total)` after each batch of windows; `times`, when given, gets the time of
  // each stage (features, model, stitch, post-process).
  Transcription transcribe(const std::vector<float>& audio,
                           const std::function<void(int64_t, int64_t)>& progress = {},
                           StageTimes* times = nullptr);

 private:
  std::shared_ptr<Model> model_;
  MelFeatures features_;
  TranscribeOptions options_;
};

}  // namespace mlq::transcription
