#pragma once
// Transcribing audio of any length as the reference does: windows of `window_seconds` every half
// window over the audio zero-padded to whole windows, run in batches, the outputs stitched (the
// first window's first three quarters, the middle half of each next one, the last window's last
// three quarters), then post-processed over the whole piece.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <vector>

#include "eval/postprocess.hpp"
#include "mlq/plugin.hpp"

namespace mlq::transcription {

// Window start samples (the reference's enframe) for `samples` of audio.
std::vector<int64_t> window_starts(int64_t samples, int64_t window);

// The reference's deframe: each window's output [frames, C] (frames = window / hop + 1, the last
// one dropped here), in window order, stitched into [windows / 2 + 1 windows' frames, C].
torch::Tensor stitch_windows(const std::vector<torch::Tensor>& outputs);

struct TranscribeOptions {
  double window_seconds = 10;
  int64_t batch = 4;  // windows per forward pass
  PostprocessOptions postprocess;
};

class Transcriber {
 public:
  Transcriber(std::shared_ptr<Model> model, FeatureOptions features, TranscribeOptions options);
  // `progress(done, total)` after each batch of windows.
  Transcription transcribe(const std::vector<float>& audio,
                           const std::function<void(int64_t, int64_t)>& progress = {});

 private:
  std::shared_ptr<Model> model_;
  MelFeatures features_;
  TranscribeOptions options_;
};

}  // namespace mlq::transcription
