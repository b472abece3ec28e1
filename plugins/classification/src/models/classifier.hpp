#pragma once
// What the classification models share: "features" [batch, frames, bands] in, "logits"
// [batch, classes] out, and the class names kept in a buffer, so that a checkpoint says what its
// outputs mean wherever it is used.
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::classification {

class Classifier : public Model {
 public:
  // The names of the model's outputs, in order (at most 8 KiB in all).
  void set_class_names(const std::vector<std::string>& names);
  std::vector<std::string> class_names() const;

 protected:
  Classifier();

 private:
  torch::Tensor names_;  // uint8: the names joined by '\n', zero-padded
};

// The class names a checkpoint's model keeps, read without building the model.
std::vector<std::string> checkpoint_class_names(const std::filesystem::path& checkpoint);

// [model] keys every classifier reads: `classes` (set by the task from the data) and `features`.
int64_t model_classes(const Config& model_config);

// Log-mel features [batch, frames, bands] -> [batch, 1, frames, bands], each band normalised by a
// batch norm over the batch and time (PANNs' bn0), so the models see standardised input.
class InputNorm : public torch::nn::Module {
 public:
  explicit InputNorm(int64_t bands);
  torch::Tensor forward(const torch::Tensor& features);

 private:
  torch::nn::BatchNorm2d norm_{nullptr};
};

}  // namespace mlq::classification
