#include "trainer/weight_average.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <vector>

namespace mlq {
namespace {

std::vector<std::pair<std::string, torch::Tensor>> weights_of(torch::nn::Module& model) {
  std::vector<std::pair<std::string, torch::Tensor>> weights;
  for (const auto& parameter : model.named_parameters()) weights.emplace_back(parameter.pair());
  for (const auto& buffer : model.named_buffers()) weights.emplace_back(buffer.pair());
  return weights;
}

}  // namespace

WeightAverage::WeightAverage(torch::nn::Module& model, double decay) : decay_(decay) {
  reset_to(model);
}

void WeightAverage::reset_to(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  average_.clear();
  for (const auto& [name, tensor] : weights_of(model)) average_[name] = tensor.detach().clone();
}

void WeightAverage::update(torch::nn::Module& model, int64_t updates_so_far) {
  torch::NoGradGuard no_grad;
  const double updates = static_cast<double>(updates_so_far);
  const double decay = std::min(decay_, (1.0 + updates) / (10.0 + updates));
  for (const auto& [name, tensor] : weights_of(model)) {
    torch::Tensor& average = average_.at(name);
    if (tensor.is_floating_point())
      average.lerp_(tensor, 1.0 - decay);
    else
      average.copy_(tensor);
  }
}

void WeightAverage::swap_into(torch::nn::Module& model) {
  torch::NoGradGuard no_grad;
  for (auto& [name, tensor] : weights_of(model)) {
    torch::Tensor held = tensor.clone();
    tensor.copy_(average_.at(name));
    average_.at(name).copy_(held);
  }
}

void WeightAverage::save(const torch::nn::Module& model, torch::serialize::OutputArchive& archive,
                         const std::string& prefix) const {
  for (const auto& parameter : model.named_parameters(/*recurse=*/false))
    archive.write(parameter.key(), average_.at(prefix + parameter.key()));
  for (const auto& buffer : model.named_buffers(/*recurse=*/false))
    archive.write(buffer.key(), average_.at(prefix + buffer.key()), /*is_buffer=*/true);
  for (const auto& child : model.named_children()) {
    if (!child.value()->is_serializable()) continue;
    torch::serialize::OutputArchive child_archive(archive.compilation_unit());
    save(*child.value(), child_archive, prefix + child.key() + ".");
    archive.write(child.key(), child_archive);
  }
}

AveragedWeightsScope::AveragedWeightsScope(WeightAverage* average, torch::nn::Module& model)
    : average_(average), model_(model) {
  if (average_) average_->swap_into(model_);
}

AveragedWeightsScope::~AveragedWeightsScope() {
  if (average_) average_->swap_into(model_);
}

}  // namespace mlq
