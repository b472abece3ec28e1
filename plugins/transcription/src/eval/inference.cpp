#include "eval/inference.hpp"

#include "mlq/plugin.hpp"

namespace mlq::transcription {
std::vector<int64_t> window_starts(int64_t samples, int64_t window) {
  const int64_t padded = std::max<int64_t>(1, (samples + window - 1) / window) * window;
  std::vector<int64_t> starts;
  for (int64_t start = 0; start + window <= padded; start += window / 2) starts.push_back(start);
  return starts;
}

torch::Tensor stitch_windows(const std::vector<torch::Tensor>& outputs) {
  if (outputs.size() == 1) return outputs[0];
  const int64_t frames = outputs[0].size(0) - 1;  // centred frames: one past the window
  const int64_t quarter = frames / 4, three_quarters = frames * 3 / 4;
  std::vector<torch::Tensor> parts{outputs.front().narrow(0, 0, three_quarters)};
  for (size_t i = 1; i + 1 < outputs.size(); ++i)
    parts.push_back(outputs[i].narrow(0, quarter, three_quarters - quarter));
  parts.push_back(outputs.back().narrow(0, quarter, frames - quarter));
  return torch::cat(parts);
}

Transcriber::Transcriber(std::shared_ptr<Model> model, FeatureOptions features,
                         TranscribeOptions options)
    : model_(std::move(model)), features_(std::move(features)), options_(options) {
  model_->eval();
}

Transcription Transcriber::transcribe(const std::vector<float>& audio,
                                      const std::function<void(int64_t, int64_t)>& progress) {
  torch::NoGradGuard no_grad;
  const FeatureOptions& f = features_.options();
  const auto window = static_cast<int64_t>(std::llround(options_.window_seconds * f.sample_rate));
  const auto samples = static_cast<int64_t>(audio.size());
  const std::vector<int64_t> starts = window_starts(samples, window);
  const torch::Tensor source =
      torch::from_blob(const_cast<float*>(audio.data()), {samples}, torch::kFloat32);
  const char* const keys[] = {"reg_onset_output", "reg_offset_output", "frame_output",
                              "velocity_output"};
  std::map<std::string, std::vector<torch::Tensor>> windows;
  for (size_t first = 0; first < starts.size(); first += options_.batch) {
    const size_t count = std::min<size_t>(options_.batch, starts.size() - first);
    torch::Tensor batch = torch::zeros({static_cast<int64_t>(count), window});
    for (size_t i = 0; i < count; ++i) {
      const int64_t start = starts[first + i];
      const int64_t n = std::min(window, samples - start);
      if (n > 0) batch[static_cast<int64_t>(i)].narrow(0, 0, n).copy_(source.narrow(0, start, n));
    }
    const TensorMap outputs = model_->forward({{"features", features_(batch)}});
    for (const char* key : keys)
      for (size_t i = 0; i < count; ++i)
        windows[key].push_back(outputs.at(key)[static_cast<int64_t>(i)].cpu());
    if (progress)
      progress(static_cast<int64_t>(first + count), static_cast<int64_t>(starts.size()));
  }
  // Frames of the audio itself (the padding's are dropped), as the reference.
  const int64_t frames = samples / f.hop_length + 1;
  ModelOutputs stitched;
  std::vector<float>* targets[] = {&stitched.reg_onset, &stitched.reg_offset, &stitched.frame,
                                   &stitched.velocity};
  for (size_t k = 0; k < 4; ++k) {
    const torch::Tensor roll = stitch_windows(windows[keys[k]]);
    *targets[k] = to_float_vector(roll.narrow(0, 0, std::min(frames, roll.size(0))));
  }
  stitched.classes = 88;
  stitched.frames = static_cast<int>(stitched.frame.size() / 88);
  return postprocess(stitched, options_.postprocess);
}

}  // namespace mlq::transcription
