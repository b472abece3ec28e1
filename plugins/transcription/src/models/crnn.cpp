#include "models/crnn.hpp"

namespace mlq::transcription {
namespace F = torch::nn::functional;

CrnnOptions CrnnOptions::from(const Config& c) {
  CrnnOptions o;
  const Range units = Range::at_least(1), dropout = Range::from_below(0, 1);
  if (c.has("conv_channels")) o.conv_channels = c.get_ints("conv_channels", units);
  o.fc_units = c.get_int("fc_units", o.fc_units, units);
  o.gru_units = c.get_int("gru_units", o.gru_units, units);
  o.classes = c.get_int("classes", o.classes, units);
  o.conv_dropout = c.get_double("conv_dropout", o.conv_dropout, dropout);
  o.fc_dropout = c.get_double("fc_dropout", o.fc_dropout, dropout);
  o.bn_momentum = c.get_double("bn_momentum", o.bn_momentum, Range::unit());
  if (o.conv_channels.empty())
    throw ConfigError("config key 'model.conv_channels' (" + c.origin("conv_channels") +
                      "): expected at least one width");
  return o;
}

ConvBlockImpl::ConvBlockImpl(int64_t in_channels, int64_t out_channels, double momentum) {
  auto conv = [](int64_t in, int64_t out) {
    return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, 3).padding(1).bias(false));
  };
  auto norm = [momentum](int64_t channels) {
    return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(channels).momentum(momentum));
  };
  conv1_ = register_module("conv1", conv(in_channels, out_channels));
  conv2_ = register_module("conv2", conv(out_channels, out_channels));
  bn1_ = register_module("bn1", norm(out_channels));
  bn2_ = register_module("bn2", norm(out_channels));
}

torch::Tensor ConvBlockImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = torch::relu(bn1_->forward(conv1_->forward(input)));
  x = torch::relu(bn2_->forward(conv2_->forward(x)));
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions({1, 2}));
}

namespace {

int64_t pooled_width(int64_t mel_bins, size_t blocks) {
  for (size_t i = 0; i < blocks; ++i) mel_bins /= 2;
  return mel_bins;
}

torch::nn::GRU bigru(int64_t input, int64_t hidden, int64_t layers) {
  return torch::nn::GRU(torch::nn::GRUOptions(input, hidden)
                            .num_layers(layers)
                            .batch_first(true)
                            .bidirectional(true));
}

int64_t bigru_macs(int64_t frames, int64_t input, int64_t hidden, int64_t layers) {
  int64_t per_frame = 0;
  for (int64_t layer = 0; layer < layers; ++layer)
    per_frame += 2 * 3 * ((layer == 0 ? input : 2 * hidden) * hidden + hidden * hidden);
  return frames * per_frame;
}

torch::nn::BatchNorm2d mel_norm(int64_t mel_bins, double momentum) {
  return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(mel_bins).momentum(momentum));
}

// [batch, frames, mel] -> BatchNorm over the mel bins -> [batch, 1, frames, mel]
torch::Tensor normalised_input(const torch::Tensor& features, torch::nn::BatchNorm2d& bn0) {
  torch::Tensor x = features.unsqueeze(1).transpose(1, 3);  // [batch, mel, frames, 1]
  return bn0->forward(x).transpose(1, 3);
}

}  // namespace

AcousticBranchImpl::AcousticBranchImpl(const CrnnOptions& options, int64_t mel_bins,
                                       int64_t classes)
    : options_(options) {
  int64_t in_channels = 1;
  for (size_t i = 0; i < options.conv_channels.size(); ++i) {
    blocks_.push_back(
        register_module("conv_block" + std::to_string(i + 1),
                        ConvBlock(in_channels, options.conv_channels[i], options.bn_momentum)));
    in_channels = options.conv_channels[i];
  }
  const int64_t features = in_channels * pooled_width(mel_bins, blocks_.size());
  fc5_ = register_module(
      "fc5", torch::nn::Linear(torch::nn::LinearOptions(features, options.fc_units).bias(false)));
  bn5_ = register_module(
      "bn5", torch::nn::BatchNorm1d(
                 torch::nn::BatchNorm1dOptions(options.fc_units).momentum(options.bn_momentum)));
  gru_ = register_module("gru", bigru(options.fc_units, options.gru_units, 2));
  fc_ = register_module("fc", torch::nn::Linear(2 * options.gru_units, classes));
}

torch::Tensor AcousticBranchImpl::forward(const torch::Tensor& input) {
  torch::Tensor x = input;
  for (auto& block : blocks_)
    x = F::dropout(block->forward(x),
                   F::DropoutFuncOptions().p(options_.conv_dropout).training(is_training()));
  x = x.transpose(1, 2).flatten(2);  // [batch, frames, channels x width]
  x = torch::relu(bn5_->forward(fc5_->forward(x).transpose(1, 2)).transpose(1, 2));
  x = F::dropout(x, F::DropoutFuncOptions().p(options_.fc_dropout).training(is_training()));
  x = std::get<0>(gru_->forward(x));
  x = F::dropout(x, F::DropoutFuncOptions().p(options_.fc_dropout).training(is_training()));
  return torch::sigmoid(fc_->forward(x));
}

int64_t AcousticBranchImpl::macs(int64_t frames, int64_t mel_bins) const {
  int64_t total = 0, in_channels = 1, width = mel_bins;
  for (int64_t out : options_.conv_channels) {
    total += frames * width * 9 * (in_channels * out + out * out);
    in_channels = out;
    width /= 2;
  }
  total += frames * in_channels * width * options_.fc_units;
  total += bigru_macs(frames, options_.fc_units, options_.gru_units, 2);
  total += frames * 2 * options_.gru_units * fc_->options.out_features();
  return total;
}

torch::Tensor model_input(const TensorMap& batch, const MelFeatures& features) {
  if (auto found = batch.find("features"); found != batch.end()) return found->second;
  auto audio = batch.find("audio");
  if (audio == batch.end())
    throw UserError("the transcription model needs 'features' or 'audio' in its batch");
  return features(audio->second);
}

CrnnHighres::CrnnHighres(const Config& c, const FeatureOptions& features)
    : options_(CrnnOptions::from(c)), features_(features) {
  const int64_t mel = features.bands(), classes = options_.classes;
  bn0_ = register_module("bn0", mel_norm(mel, options_.bn_momentum));
  frame_ = register_module("frame_model", AcousticBranch(options_, mel, classes));
  onset_ = register_module("reg_onset_model", AcousticBranch(options_, mel, classes));
  offset_ = register_module("reg_offset_model", AcousticBranch(options_, mel, classes));
  velocity_ = register_module("velocity_model", AcousticBranch(options_, mel, classes));
  onset_gru_ = register_module("reg_onset_gru", bigru(2 * classes, options_.gru_units, 1));
  onset_fc_ = register_module("reg_onset_fc", torch::nn::Linear(2 * options_.gru_units, classes));
  frame_gru_ = register_module("frame_gru", bigru(3 * classes, options_.gru_units, 1));
  frame_fc_ = register_module("frame_fc", torch::nn::Linear(2 * options_.gru_units, classes));
}

TensorMap CrnnHighres::forward(const TensorMap& batch) {
  const torch::Tensor x = normalised_input(model_input(batch, features_), bn0_);
  torch::Tensor frame = frame_->forward(x);
  torch::Tensor onset = onset_->forward(x);
  const torch::Tensor offset = offset_->forward(x);
  const torch::Tensor velocity = velocity_->forward(x);
  const auto dropout = F::DropoutFuncOptions().p(options_.fc_dropout).training(is_training());
  // Velocities condition the onsets; onsets and offsets condition the frames (both detached).
  torch::Tensor h = torch::cat({onset, onset.sqrt() * velocity.detach()}, 2);
  h = F::dropout(std::get<0>(onset_gru_->forward(h)), dropout);
  onset = torch::sigmoid(onset_fc_->forward(h));
  h = torch::cat({frame, onset.detach(), offset.detach()}, 2);
  h = F::dropout(std::get<0>(frame_gru_->forward(h)), dropout);
  frame = torch::sigmoid(frame_fc_->forward(h));
  return {{"reg_onset_output", onset},
          {"reg_offset_output", offset},
          {"frame_output", frame},
          {"velocity_output", velocity}};
}

int64_t CrnnHighres::macs(int64_t frames) const {
  const int64_t mel = features_.options().bands(), classes = options_.classes;
  const int64_t hidden = options_.gru_units;
  return 4 * frame_->macs(frames, mel) + bigru_macs(frames, 2 * classes, hidden, 1) +
         bigru_macs(frames, 3 * classes, hidden, 1) + 2 * frames * 2 * hidden * classes;
}

int64_t CrnnHighres::macs_per_second() const {
  const FeatureOptions& f = features_.options();
  return macs(static_cast<int64_t>(std::lround(f.sample_rate / f.hop_length)));
}

CrnnPedal::CrnnPedal(const Config& c, const FeatureOptions& features)
    : options_(CrnnOptions::from(c)), features_(features) {
  const int64_t mel = features.bands();
  bn0_ = register_module("bn0", mel_norm(mel, options_.bn_momentum));
  onset_ = register_module("reg_pedal_onset_model", AcousticBranch(options_, mel, 1));
  offset_ = register_module("reg_pedal_offset_model", AcousticBranch(options_, mel, 1));
  frame_ = register_module("reg_pedal_frame_model", AcousticBranch(options_, mel, 1));
}

TensorMap CrnnPedal::forward(const TensorMap& batch) {
  const torch::Tensor x = normalised_input(model_input(batch, features_), bn0_);
  return {{"reg_pedal_onset_output", onset_->forward(x)},
          {"reg_pedal_offset_output", offset_->forward(x)},
          {"pedal_frame_output", frame_->forward(x)}};
}

int64_t CrnnPedal::macs(int64_t frames) const {
  return 3 * frame_->macs(frames, features_.options().bands());
}

int64_t CrnnPedal::macs_per_second() const {
  const FeatureOptions& f = features_.options();
  return macs(static_cast<int64_t>(std::lround(f.sample_rate / f.hop_length)));
}

}  // namespace mlq::transcription
