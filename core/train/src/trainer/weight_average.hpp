#pragma once
#include <torch/nn/module.h>
#include <torch/serialize/output-archive.h>

#include <cstdint>
#include <map>
#include <string>

namespace mlq {

// An exponential moving average of a model's weights (Polyak averaging, as timm's ModelEmaV2 and
// TensorFlow's ExponentialMovingAverage): after each optimizer step,
//   average = d * average + (1 - d) * weights,  d = min(decay, (1 + updates) / (10 + updates)),
// so early averages follow the fast-moving weights instead of remembering the initialisation.
// Floating-point buffers (batch norm statistics) are averaged too; others are copied.
class WeightAverage {
 public:
  WeightAverage(torch::nn::Module& model, double decay);

  void update(torch::nn::Module& model, int64_t updates_so_far);
  // Exchanges the model's weights with the average (twice restores both).
  void swap_into(torch::nn::Module& model);
  // Starts the average over from the model's weights (a resumed run's averaged weights).
  void reset_to(torch::nn::Module& model);
  // Writes the average as Module::save writes the model, so that it loads as the model's weights.
  void save(const torch::nn::Module& model, torch::serialize::OutputArchive& archive,
            const std::string& prefix = "") const;

 private:
  double decay_;
  std::map<std::string, torch::Tensor> average_;  // by the model's dotted names
};

// Evaluates with the averaged weights for its lifetime (a null average: nothing changes).
class AveragedWeightsScope {
 public:
  AveragedWeightsScope(WeightAverage* average, torch::nn::Module& model);
  ~AveragedWeightsScope();
  AveragedWeightsScope(const AveragedWeightsScope&) = delete;
  AveragedWeightsScope& operator=(const AveragedWeightsScope&) = delete;

 private:
  WeightAverage* average_;
  torch::nn::Module& model_;
};

}  // namespace mlq
