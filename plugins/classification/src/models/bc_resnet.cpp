#include "models/bc_resnet.hpp"

namespace mlq::classification {
namespace {

namespace nn = torch::nn;

// Batch norm over `groups` sub-bands of the frequency axis separately (one set of statistics
// per channel and sub-band); plain batch norm when the bands do not divide.
class SubSpectralNormImpl : public nn::Module {
 public:
  SubSpectralNormImpl(int64_t channels, int64_t groups, int64_t bands)
      : groups_(bands % groups == 0 ? groups : 1) {
    norm_ = register_module("norm", nn::BatchNorm2d(channels * groups_));
  }
  torch::Tensor forward(const torch::Tensor& x) {  // [B, C, F, T]
    const auto b = x.size(0), c = x.size(1), f = x.size(2), t = x.size(3);
    return norm_->forward(x.reshape({b, c * groups_, f / groups_, t})).reshape({b, c, f, t});
  }

 private:
  int64_t groups_;
  nn::BatchNorm2d norm_{nullptr};
};
TORCH_MODULE(SubSpectralNorm);

// One BC-ResNet block; a transition block (in != out) changes the channels with a 1x1
// convolution first and has no identity shortcut.
class BcBlockImpl : public nn::Module {
 public:
  BcBlockImpl(int64_t in, int64_t out, int64_t stride, int64_t dilation, int64_t bands,
              int64_t sub_bands, double dropout)
      : transition_(in != out) {
    if (transition_)
      transition_layer_ = register_module(
          "transition", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false)),
                                       nn::BatchNorm2d(out), nn::ReLU()));
    frequency_ = register_module("frequency", nn::Conv2d(nn::Conv2dOptions(out, out, {3, 1})
                                                             .stride({stride, 1})
                                                             .padding({1, 0})
                                                             .groups(out)
                                                             .bias(false)));
    norm_ = register_module("norm", SubSpectralNorm(out, sub_bands, bands / stride));
    temporal_ = register_module(
        "temporal", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(out, out, {1, 3})
                                                  .padding({0, dilation})
                                                  .dilation({1, dilation})
                                                  .groups(out)
                                                  .bias(false)),
                                   nn::BatchNorm2d(out), nn::SiLU(),
                                   nn::Conv2d(nn::Conv2dOptions(out, out, 1).bias(false)),
                                   nn::Dropout2d(dropout)));
  }
  torch::Tensor forward(torch::Tensor x) {
    const torch::Tensor identity = x;
    if (transition_) x = transition_layer_->forward(x);
    const torch::Tensor frequency = norm_->forward(frequency_->forward(x));
    torch::Tensor out = frequency + temporal_->forward(frequency.mean(2, /*keepdim=*/true));
    if (!transition_) out = out + identity;
    return torch::relu(out);
  }

 private:
  bool transition_;
  nn::Sequential transition_layer_{nullptr}, temporal_{nullptr};
  nn::Conv2d frequency_{nullptr};
  SubSpectralNorm norm_{nullptr};
};
TORCH_MODULE(BcBlock);

}  // namespace

BcResNet::BcResNet(const Config& c, const FeatureOptions& features) {
  c.check_known_keys("", {"name", "classes", "width", "dropout", "sub_bands", "features"});
  const int64_t classes = model_classes(c);
  const int64_t w = c.get_int("width", 3, Range::between(1, 64));
  const double dropout = c.get_double("dropout", 0.1, Range::from_below(0, 1));
  const int64_t sub_bands = c.get_int("sub_bands", 4, Range::at_least(1));
  int64_t bands = features.bands();
  input_norm_ = register_module("input_norm", std::make_shared<InputNorm>(bands));
  stem_ = register_module(
      "stem", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(1, 16 * w, 5).stride({2, 1}).padding(2)),
                             nn::BatchNorm2d(16 * w), nn::ReLU()));
  bands = (bands + 1) / 2;
  blocks_ = register_module("blocks", nn::Sequential());
  // (channels, blocks, frequency stride of the first, time dilation) per stage.
  const int64_t stages[4][4] = {
      {8 * w, 2, 1, 1}, {12 * w, 2, 2, 2}, {16 * w, 4, 2, 4}, {20 * w, 4, 1, 8}};
  int64_t in = 16 * w;
  for (const auto& stage : stages)
    for (int64_t i = 0; i < stage[1]; ++i) {
      const int64_t stride = i == 0 ? stage[2] : 1;
      blocks_->push_back(BcBlock(in, stage[0], stride, stage[3], bands, sub_bands, dropout));
      bands = (bands + stride - 1) / stride;
      in = stage[0];
    }
  head_ = register_module(
      "head", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(in, in, {std::min<int64_t>(5, bands), 5})
                                            .padding({0, 2})
                                            .groups(in)
                                            .bias(false)),
                             nn::Conv2d(nn::Conv2dOptions(in, 32 * w, 1).bias(false)),
                             nn::BatchNorm2d(32 * w), nn::ReLU()));
  classifier_ = register_module("classifier", nn::Linear(32 * w, classes));
}

TensorMap BcResNet::forward(const TensorMap& batch) {
  // [B, 1, T, F] -> [B, 1, F, T]: the blocks' frequency axis is 2, time 3.
  torch::Tensor x = input_norm_->forward(batch.at("features")).transpose(2, 3);
  x = head_->forward(blocks_->forward(stem_->forward(x)));
  return {{"logits", classifier_->forward(x.mean({2, 3}))}};
}

}  // namespace mlq::classification
