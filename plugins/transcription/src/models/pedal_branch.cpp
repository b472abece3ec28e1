#include "models/pedal_branch.hpp"

namespace mlq::transcription {

PedalBranchImpl::PedalBranchImpl(const PedalBranchOptions& options, int64_t bands)
    : options_(options), bands_(bands) {
  namespace nn = torch::nn;
  const int64_t c = options.channels, h = options.hidden;
  const double momentum = options.bn_momentum;
  conv_ = register_module("conv", nn::Sequential());
  for (int64_t in : {int64_t{1}, c}) {
    conv_->push_back(nn::Conv2d(nn::Conv2dOptions(in, c, 3).padding(1).bias(false)));
    conv_->push_back(nn::BatchNorm2d(nn::BatchNorm2dOptions(c).momentum(momentum)));
    conv_->push_back(nn::ReLU());
  }
  mix_ = register_module(
      "mix",
      nn::Sequential(nn::Conv1d(nn::Conv1dOptions(c * bands, h, 1).bias(false)),
                     nn::BatchNorm1d(nn::BatchNorm1dOptions(h).momentum(momentum)), nn::ReLU()));
  for (size_t i = 0; i < options.dilations.size(); ++i) {
    const int64_t d = options.dilations[i];
    temporal_.push_back(register_module(
        "temporal" + std::to_string(i),
        nn::Sequential(nn::Conv1d(nn::Conv1dOptions(h, h, 3).padding(d).dilation(d).bias(false)),
                       nn::BatchNorm1d(nn::BatchNorm1dOptions(h).momentum(momentum)), nn::ReLU())));
  }
  if (options.gru > 0)
    gru_ = register_module(
        "gru", nn::GRU(nn::GRUOptions(h, options.gru).batch_first(true).bidirectional(true)));
  out_ = register_module(
      "out", nn::Conv1d(nn::Conv1dOptions(options.gru > 0 ? 2 * options.gru : h, 2, 1)));
}

TensorMap PedalBranchImpl::forward(const torch::Tensor& x) {
  namespace F = torch::nn::functional;
  const int64_t frames = x.size(2);
  const bool pool = options_.pool > 1;
  torch::Tensor y = x;
  if (pool && options_.pool_first)
    y = F::avg_pool2d(y, F::AvgPool2dFuncOptions({options_.pool, 1}).ceil_mode(true));
  y = conv_->forward(y);  // [batch, c, frames, bands]
  // [batch, c x bands, frames]: every band of every channel is an input of the frame's mix.
  y = y.permute({0, 1, 3, 2}).reshape({y.size(0), -1, y.size(2)});
  y = mix_->forward(y);
  if (pool && !options_.pool_first)
    y = F::avg_pool1d(y, F::AvgPool1dFuncOptions(options_.pool).ceil_mode(true));
  for (auto& layer : temporal_) y = y + layer->forward(y);
  if (gru_) y = std::get<0>(gru_->forward(y.transpose(1, 2))).transpose(1, 2);
  y = out_->forward(y);  // [batch, 2, frames / pool]
  if (pool)
    y = F::interpolate(y, F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{frames})
                              .mode(torch::kLinear)
                              .align_corners(false));
  TensorMap outputs;
  const char* const names[] = {"pedal_frame", "reg_pedal_offset"};
  for (int64_t i = 0; i < 2; ++i) {
    const torch::Tensor logits = y.select(1, i);
    outputs[std::string(names[i]) + "_logits"] = logits;
    outputs[std::string(names[i]) + "_output"] = torch::sigmoid(logits);
  }
  return outputs;
}

int64_t PedalBranchImpl::macs_per_frame() const {
  const int64_t c = options_.channels, h = options_.hidden, g = options_.gru;
  const int64_t pooled = static_cast<int64_t>(options_.dilations.size()) * 3 * h * h +
                         (g > 0 ? 2 * 3 * g * (h + g) + 2 * 2 * g : 2 * h);
  const int64_t full_rate = bands_ * 9 * (c + c * c) + c * bands_ * h;
  return (options_.pool_first ? full_rate / options_.pool : full_rate) + pooled / options_.pool;
}

}  // namespace mlq::transcription
