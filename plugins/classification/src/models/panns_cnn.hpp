#pragma once
// The PANNs CNNs (Kong et al., "PANNs: Large-Scale Pretrained Audio Neural Networks", 2020) for
// larger data and GPUs: four convolution blocks of 64, 128, 256, 512 channels, each followed by
// 2x2 average pooling; CNN6 with one 5x5 convolution a block (~4.6 M parameters), CNN10 with two
// 3x3 ones (~5.2 M); then the mean over frequency, max plus mean over time, and two dense layers.
#include "models/classifier.hpp"

namespace mlq::classification {

class PannsCnn : public Classifier {
 public:
  // [model]: classes, dropout (0.2 after each block, 0.5 before the last layer), width (channels
  // of the first block, 64). `double_conv`: CNN10's blocks, else CNN6's.
  PannsCnn(const Config& model_config, const FeatureOptions& features, bool double_conv);
  TensorMap forward(const TensorMap& batch) override;

 private:
  std::shared_ptr<InputNorm> input_norm_;
  std::vector<torch::nn::Sequential> blocks_;
  torch::nn::Linear hidden_{nullptr}, classifier_{nullptr};
  double dropout_;
};

}  // namespace mlq::classification
