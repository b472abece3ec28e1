#pragma once
// BC-ResNet (Kim et al., "Broadcasted Residual Learning for Efficient Keyword Spotting", 2021):
// each block learns a frequency-wise depthwise convolution on the 2-D map (with sub-spectral
// normalisation) and a temporal one on its frequency average, broadcast back over frequency.
// `width` scales the channels (BC-ResNet-w: 8w, 12w, 16w, 20w); width 3 has ~45 K parameters.
#include "models/classifier.hpp"

namespace mlq::classification {

class BcResNet : public Classifier {
 public:
  // [model]: classes, width (default 3), dropout (0.1), sub_bands (sub-spectral norm groups, 4).
  // The input bands are [features]'s.
  BcResNet(const Config& model_config, const FeatureOptions& features);
  TensorMap forward(const TensorMap& batch) override;

 private:
  std::shared_ptr<InputNorm> input_norm_;
  torch::nn::Sequential stem_{nullptr}, blocks_{nullptr}, head_{nullptr};
  torch::nn::Linear classifier_{nullptr};
};

}  // namespace mlq::classification
