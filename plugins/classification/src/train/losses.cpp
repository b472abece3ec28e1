#include "train/losses.hpp"

namespace mlq::classification {

LossFn cross_entropy(const Config& c) {
  c.check_known_keys("", {"name", "label_smoothing"});
  const double smoothing = c.get_double("label_smoothing", 0.1, Range::from_below(0, 1));
  return [smoothing](const TensorMap& outputs, const TensorMap& batch) {
    const torch::Tensor& logits = outputs.at("logits");
    const torch::Tensor target = batch.at("target").to(logits.dtype()) * (1 - smoothing) +
                                 smoothing / static_cast<double>(logits.size(1));
    return -(target * torch::log_softmax(logits, 1)).sum(1).mean();
  };
}

}  // namespace mlq::classification
