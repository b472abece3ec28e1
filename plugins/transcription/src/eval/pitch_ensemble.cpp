#include "eval/pitch_ensemble.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>
#include <utility>

#include "eval/output_keys.hpp"

namespace mlq::transcription {
namespace {

constexpr int64_t kMaxShift = 12;

}  // namespace

PitchEnsemble PitchEnsemble::from(const Config& config, const FeatureOptions& features) {
  const Config inference = config.section("inference");
  inference.check_known_keys("", {"pitch_shifts"});
  if (!inference.has("pitch_shifts")) return {};
  return of(
      inference.get_ints("pitch_shifts"), features,
      fmt::format("config key 'inference.pitch_shifts' ({})", inference.origin("pitch_shifts")));
}

PitchEnsemble PitchEnsemble::of(std::vector<int64_t> shifts, const FeatureOptions& features,
                                const std::string& what) {
  std::set<int64_t> seen;
  for (int64_t shift : shifts)
    if (shift == 0 || std::abs(shift) > kMaxShift || !seen.insert(shift).second)
      throw ConfigError(
          fmt::format("{}: expected distinct semitones from -{} to {}, none 0; got {}", what,
                      kMaxShift, kMaxShift, shift));
  if (!shifts.empty() && features.filterbank != "semitone")
    throw ConfigError(fmt::format(
        "{}: a pitch-shift ensemble needs [features] filterbank = \"semitone\", got \"{}\"", what,
        features.filterbank));
  PitchEnsemble ensemble;
  ensemble.shifts = std::move(shifts);
  ensemble.bins_per_semitone = features.bins_per_semitone;
  ensemble.silence = features.log ? 10 * std::log10(features.log_floor) : 0.0;
  return ensemble;
}

PitchEnsemble PitchEnsemble::parse(const std::string& list, const FeatureOptions& features,
                                   const std::string& what) {
  if (list == "none") return {};
  std::vector<int64_t> shifts;
  for (size_t start = 0; start <= list.size();) {
    const size_t comma = std::min(list.find(',', start), list.size());
    const std::string item = list.substr(start, comma - start);
    size_t used = 0;
    int64_t value = 0;
    try {
      value = std::stoll(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size())
      throw UserError(
          fmt::format("{} '{}': expected semitones separated by commas (e.g. -2,-1,1,2) or 'none'",
                      what, list));
    shifts.push_back(value);
    start = comma + 1;
  }
  return of(std::move(shifts), features, what);
}

torch::Tensor shift_bands(const torch::Tensor& features, int64_t bands, double fill) {
  const int64_t size = features.size(-1);
  if (bands == 0) return features;
  torch::Tensor shifted = torch::full_like(features, fill);
  if (std::abs(bands) >= size) return shifted;
  if (bands > 0)
    shifted.narrow(-1, bands, size - bands).copy_(features.narrow(-1, 0, size - bands));
  else
    shifted.narrow(-1, 0, size + bands).copy_(features.narrow(-1, -bands, size + bands));
  return shifted;
}

TensorMap forward_with_ensemble(Model& model, const TensorMap& batch,
                                const PitchEnsemble& ensemble) {
  TensorMap outputs = model.forward(batch);
  if (ensemble.empty()) return outputs;
  // A pass per view: one pass over all of them in a batch five times as large ran slower.
  std::vector<torch::Tensor> sums;
  for (const char* key : kNoteOutputs) sums.push_back(outputs.at(key).clone());
  const int64_t keys = sums[0].size(-1);
  torch::Tensor views = torch::ones({keys}, sums[0].options());
  TensorMap shifted_batch = batch;
  for (int64_t shift : ensemble.shifts) {
    shifted_batch["features"] =
        shift_bands(batch.at("features"), shift * ensemble.bins_per_semitone, ensemble.silence);
    const TensorMap shifted = model.forward(shifted_batch);
    // Key k of the shifted view played key k - shift.
    const int64_t first = std::max<int64_t>(0, -shift), count = keys - std::abs(shift);
    if (count <= 0) continue;
    for (size_t i = 0; i < sums.size(); ++i)
      sums[i]
          .narrow(-1, first, count)
          .add_(shifted.at(kNoteOutputs[i]).narrow(-1, first + shift, count));
    views.narrow(0, first, count).add_(1);
  }
  for (size_t i = 0; i < sums.size(); ++i) outputs[kNoteOutputs[i]] = sums[i] / views;
  return outputs;
}

}  // namespace mlq::transcription
