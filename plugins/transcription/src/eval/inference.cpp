#include "eval/inference.hpp"

#include "eval/output_keys.hpp"

#include "mlq/plugin.hpp"

namespace mlq::transcription {

std::vector<std::string> decoded_outputs(const TensorMap& outputs) {
  std::vector<std::string> keys(std::begin(kNoteOutputs), std::end(kNoteOutputs));
  if (outputs.count(kPedalOutputs[0]) && outputs.count(kPedalOutputs[1]))
    keys.insert(keys.end(), std::begin(kPedalOutputs), std::end(kPedalOutputs));
  return keys;
}

ModelOutputs model_outputs(const std::map<std::string, torch::Tensor>& rolls, int64_t frames) {
  ModelOutputs out;
  auto take = [&](const char* key, std::vector<float>& into) {
    const auto found = rolls.find(key);
    if (found == rolls.end()) return;
    const torch::Tensor& roll = found->second;
    into = to_float_vector(frames < 0 ? roll.contiguous()
                                      : roll.narrow(0, 0, std::min(frames, roll.size(0))));
  };
  std::vector<float>* notes[] = {&out.reg_onset, &out.reg_offset, &out.frame, &out.velocity};
  for (size_t k = 0; k < 4; ++k) take(kNoteOutputs[k], *notes[k]);
  take(kPedalOutputs[0], out.pedal_frame);
  take(kPedalOutputs[1], out.reg_pedal_offset);
  out.classes = 88;
  out.frames = static_cast<int>(out.frame.size() / 88);
  return out;
}

std::vector<int64_t> window_starts(int64_t samples, int64_t window, int64_t context) {
  if (context < 0) context = window / 4;
  const int64_t hop = std::max<int64_t>(1, window - 2 * context);
  const int64_t padded = std::max<int64_t>(1, (samples + window - 1) / window) * window;
  std::vector<int64_t> starts;
  for (int64_t start = 0; start + window <= padded; start += hop) starts.push_back(start);
  if (starts.back() + window < padded) starts.push_back(padded - window);
  return starts;
}

torch::Tensor stitch_windows(const std::vector<torch::Tensor>& outputs,
                             std::vector<int64_t> start_frames, int64_t context_frames) {
  if (outputs.size() == 1) return outputs[0];
  const int64_t frames = outputs[0].size(0) - 1;  // centred frames: one past the window
  if (context_frames < 0) context_frames = frames / 4;
  if (start_frames.empty())
    for (size_t i = 0; i < outputs.size(); ++i)
      start_frames.push_back(static_cast<int64_t>(i) * (frames - 2 * context_frames));
  std::vector<torch::Tensor> parts;
  int64_t kept_until = 0;  // absolute frame
  for (size_t i = 0; i < outputs.size(); ++i) {
    const bool last = i + 1 == outputs.size();
    const int64_t until = start_frames[i] + frames - (last ? 0 : context_frames);
    if (until > kept_until)
      parts.push_back(outputs[i].narrow(0, kept_until - start_frames[i], until - kept_until));
    kept_until = std::max(kept_until, until);
  }
  return torch::cat(parts);
}

Transcriber::Transcriber(std::shared_ptr<Model> model, FeatureOptions features,
                         TranscribeOptions options)
    : model_(std::move(model)), features_(std::move(features)), options_(options) {
  model_->eval();
}

Transcription Transcriber::transcribe(const std::vector<float>& audio,
                                      const std::function<void(int64_t, int64_t)>& progress,
                                      StageTimes* times) {
  StageTimes unused;
  StageTimes& clock = times ? *times : unused;
  torch::NoGradGuard no_grad;
  const FeatureOptions& f = features_.options();
  const auto window = static_cast<int64_t>(std::llround(options_.window_seconds * f.sample_rate));
  const auto samples = static_cast<int64_t>(audio.size());
  const auto context =
      options_.context_seconds < 0
          ? window / 4
          : std::min(window / 4, static_cast<int64_t>(std::llround(options_.context_seconds *
                                                                   f.sample_rate / f.hop_length)) *
                                     f.hop_length);
  const std::vector<int64_t> starts = window_starts(samples, window, context);
  const torch::Tensor source =
      torch::from_blob(const_cast<float*>(audio.data()), {samples}, torch::kFloat32);
  std::vector<std::string> keys;
  std::map<std::string, std::vector<torch::Tensor>> windows;
  for (size_t first = 0; first < starts.size(); first += options_.batch) {
    const size_t count = std::min<size_t>(options_.batch, starts.size() - first);
    torch::Tensor batch = torch::zeros({static_cast<int64_t>(count), window});
    for (size_t i = 0; i < count; ++i) {
      const int64_t start = starts[first + i];
      const int64_t n = std::min(window, samples - start);
      if (n > 0) batch[static_cast<int64_t>(i)].narrow(0, 0, n).copy_(source.narrow(0, start, n));
    }
    const torch::Tensor features = clock.time("features", [&] { return features_(batch); });
    const TensorMap outputs = clock.time("model", [&] {
      return forward_with_ensemble(*model_, {{"features", features}}, options_.ensemble);
    });
    if (keys.empty()) keys = decoded_outputs(outputs);
    clock.time("stitch", [&] {
      for (const std::string& key : keys)
        for (size_t i = 0; i < count; ++i)
          windows[key].push_back(outputs.at(key)[static_cast<int64_t>(i)].cpu());
    });
    if (progress)
      progress(static_cast<int64_t>(first + count), static_cast<int64_t>(starts.size()));
  }
  // Frames of the audio itself (the padding's are dropped), as the reference.
  const int64_t frames = samples / f.hop_length + 1;
  std::vector<int64_t> start_frames;
  for (int64_t start : starts) start_frames.push_back(start / f.hop_length);
  const ModelOutputs stitched = clock.time("stitch", [&] {
    std::map<std::string, torch::Tensor> rolls;
    for (const std::string& key : keys)
      rolls[key] = stitch_windows(windows[key], start_frames, context / f.hop_length);
    return model_outputs(rolls, frames);
  });
  return clock.time("post-process", [&] { return postprocess(stitched, options_.postprocess); });
}

}  // namespace mlq::transcription
