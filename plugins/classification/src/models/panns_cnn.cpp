#include "models/panns_cnn.hpp"

namespace mlq::classification {
namespace {

namespace nn = torch::nn;

nn::Sequential conv_block(int64_t in, int64_t out, bool double_conv, double dropout) {
  nn::Sequential block;
  const int64_t kernel = double_conv ? 3 : 5;
  for (int i = 0; i < (double_conv ? 2 : 1); ++i) {
    block->push_back(nn::Conv2d(
        nn::Conv2dOptions(i == 0 ? in : out, out, kernel).padding(kernel / 2).bias(false)));
    block->push_back(nn::BatchNorm2d(out));
    block->push_back(nn::ReLU());
  }
  block->push_back(nn::AvgPool2d(nn::AvgPool2dOptions(2)));
  block->push_back(nn::Dropout(dropout));
  return block;
}

}  // namespace

PannsCnn::PannsCnn(const Config& c, const FeatureOptions& features, bool double_conv) {
  c.check_known_keys("", {"name", "classes", "width", "dropout", "features"});
  const int64_t classes = model_classes(c);
  const int64_t width = c.get_int("width", 64, Range::between(1, 1024));
  dropout_ = c.get_double("dropout", 0.2, Range::from_below(0, 1));
  input_norm_ = register_module("input_norm", std::make_shared<InputNorm>(features.bands()));
  int64_t in = 1;
  for (int64_t multiple : {1, 2, 4, 8}) {
    blocks_.push_back(register_module("block" + std::to_string(blocks_.size() + 1),
                                      conv_block(in, width * multiple, double_conv, dropout_)));
    in = width * multiple;
  }
  hidden_ = register_module("hidden", nn::Linear(in, in));
  classifier_ = register_module("classifier", nn::Linear(in, classes));
}

TensorMap PannsCnn::forward(const TensorMap& batch) {
  torch::Tensor x = input_norm_->forward(batch.at("features"));  // [B, 1, T, F]
  for (auto& block : blocks_) x = block->forward(x);
  x = x.mean(3);
  x = std::get<0>(x.max(2)) + x.mean(2);
  x = torch::dropout(x, 2.5 * dropout_, is_training());
  x = torch::relu(hidden_->forward(x));
  x = torch::dropout(x, 2.5 * dropout_, is_training());
  return {{"logits", classifier_->forward(x)}};
}

}  // namespace mlq::classification
