#include "models/losses.hpp"

#include <torch/torch.h>

namespace mlq::transcription {
namespace {

torch::Tensor masked_bce(const torch::Tensor& output, const torch::Tensor& target,
                         const torch::Tensor& mask) {
  const torch::Tensor p = torch::clamp(output, 1e-7, 1 - 1e-7);
  const torch::Tensor loss = -target * torch::log(p) - (1 - target) * torch::log(1 - p);
  return (loss * mask).sum() / torch::clamp_min(mask.sum(), 1);
}

// Sum over cells of BCE(logits, target) x weight / the sum of mask.
torch::Tensor weighted_bce_with_logits(const torch::Tensor& logits, const torch::Tensor& target,
                                       const torch::Tensor& weight, const torch::Tensor& mask) {
  namespace F = torch::nn::functional;
  const torch::Tensor sum = F::binary_cross_entropy_with_logits(
      logits, target,
      F::BinaryCrossEntropyWithLogitsFuncOptions().weight(weight).reduction(torch::kSum));
  return sum / torch::clamp_min(mask.sum(), 1);
}

const torch::Tensor& logits(const TensorMap& outputs, const std::string& name) {
  auto found = outputs.find(name);
  if (found == outputs.end())
    throw UserError("loss 'weighted_bce' needs the model's logits ('" + name +
                    "'), which this model does not give: use regression_bce with it");
  return found->second;
}

}  // namespace

LossFn weighted_bce(const Config& c) {
  c.check_known_keys("", {"name", "positive_weight", "velocity_weight", "pedal_weight"});
  const double positive_weight = c.get_double("positive_weight", 5.0, Range::at_least(0));
  const double velocity_weight = c.get_double("velocity_weight", 0.5, Range::at_least(0));
  const double pedal_weight = c.get_double("pedal_weight", 1.0, Range::at_least(0));
  if (positive_weight < 0 || velocity_weight < 0)
    throw ConfigError("config keys 'loss.positive_weight' and 'loss.velocity_weight' (" +
                      c.origin("positive_weight") + "): expected weights >= 0");
  return [=](const TensorMap& outputs, const TensorMap& batch) {
    const torch::Tensor& mask = batch.at("mask_roll");
    auto regression = [&](const std::string& output, const std::string& roll) {
      const torch::Tensor& target = batch.at(roll);
      const torch::Tensor weight = mask * (1 + positive_weight * (target > 0).to(mask.dtype()));
      return weighted_bce_with_logits(logits(outputs, output), target, weight, mask);
    };
    const torch::Tensor& onsets = batch.at("onset_roll");
    torch::Tensor loss =
        regression("reg_onset_logits", "reg_onset_roll") +
        regression("reg_offset_logits", "reg_offset_roll") +
        weighted_bce_with_logits(logits(outputs, "frame_logits"), batch.at("frame_roll"), mask,
                                 mask) +
        velocity_weight * weighted_bce_with_logits(logits(outputs, "velocity_logits"),
                                                   batch.at("velocity_roll") / 128, onsets, onsets);
    if (outputs.count("pedal_frame_logits") && pedal_weight > 0) {
      // Per frame, unmasked (the reference's pedal loss): the frame roll and the release
      // regression, its rare positive cells weighted as the notes' are.
      const torch::Tensor& frame = batch.at("pedal_frame_roll");
      const torch::Tensor& release = batch.at("reg_pedal_offset_roll");
      const torch::Tensor ones = torch::ones_like(frame);
      loss = loss +
             pedal_weight *
                 (weighted_bce_with_logits(outputs.at("pedal_frame_logits"), frame, ones, ones) +
                  weighted_bce_with_logits(outputs.at("reg_pedal_offset_logits"), release,
                                           1 + positive_weight * (release > 0).to(ones.dtype()),
                                           ones));
    }
    return loss;
  };
}

torch::Tensor regression_bce(const TensorMap& outputs, const TensorMap& batch) {
  const torch::Tensor& mask = batch.at("mask_roll");
  return masked_bce(outputs.at("reg_onset_output"), batch.at("reg_onset_roll"), mask) +
         masked_bce(outputs.at("reg_offset_output"), batch.at("reg_offset_roll"), mask) +
         masked_bce(outputs.at("frame_output"), batch.at("frame_roll"), mask) +
         masked_bce(outputs.at("velocity_output"), batch.at("velocity_roll") / 128,
                    batch.at("onset_roll"));
}

}  // namespace mlq::transcription
