#include "mlq/train/segment_dataset.hpp"

#include <torch/torch.h>

#include <fmt/format.h>
#include <cmath>
#include <cstring>

#include "mlq/util/error.hpp"

namespace mlq {

SegmentDataset::SegmentDataset(const std::filesystem::path& index_csv, const std::string& split,
                               SegmentOptions options, SegmentLabelHook label_hook)
    : label_hook_(std::move(label_hook)) {
  if (options.segment_seconds <= 0 || options.hop_seconds <= 0)
    throw ConfigError(fmt::format("segment_seconds ({}) and hop_seconds ({}) must be positive",
                                  options.segment_seconds, options.hop_seconds));
  const std::filesystem::path root = index_csv.parent_path();
  for (auto& entry : read_index(index_csv)) {
    if (entry.split != split) continue;
    if (sample_rate_ == 0) sample_rate_ = entry.sample_rate;
    if (entry.sample_rate != sample_rate_)
      throw UserError(fmt::format("{}: '{}' is at {} Hz, other files at {} Hz; preprocess again",
                                  index_csv.string(), entry.id, entry.sample_rate, sample_rate_));
    NpyFile audio(root / entry.audio);
    if (audio.dtype() != DType::Float32 || audio.shape().size() != 1)
      throw UserError((root / entry.audio).string() + ": expected 1-D float32 audio");
    entries_.push_back(std::move(entry));
    audio_.push_back(std::move(audio));
  }
  segment_samples_ = std::llround(options.segment_seconds * sample_rate_);
  const int64_t hop = std::max<int64_t>(1, std::llround(options.hop_seconds * sample_rate_));
  for (size_t file = 0; file < audio_.size(); ++file) {
    const int64_t length = audio_[file].size();
    const int64_t extra = std::max<int64_t>(0, length - segment_samples_);
    const int64_t count = 1 + (extra + hop - 1) / hop;
    for (int64_t k = 0; k < count; ++k) segments_.push_back({file, k * hop});
  }
}

TensorMap SegmentDataset::get(int64_t index) const {
  const Segment& segment = segments_.at(static_cast<size_t>(index));
  const NpyFile& audio = audio_[segment.file];
  torch::Tensor samples = torch::zeros({segment_samples_}, torch::kFloat32);
  const int64_t available = std::min(segment_samples_, audio.size() - segment.start);
  if (available > 0)
    std::memcpy(samples.data_ptr<float>(), audio.floats() + segment.start,
                static_cast<size_t>(available) * sizeof(float));
  audio.check_intact();  // a file cut short under the mapping read as zeros: an error instead
  TensorMap example{{"audio", samples}};
  if (label_hook_) {
    const double start = static_cast<double>(segment.start) / sample_rate_;
    const double end = start + static_cast<double>(segment_samples_) / sample_rate_;
    for (auto& [key, tensor] : label_hook_(entries_[segment.file], start, end))
      example[key] = std::move(tensor);
  }
  return example;
}

}  // namespace mlq
