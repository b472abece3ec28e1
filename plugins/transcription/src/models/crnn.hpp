#pragma once
// The reference models of Kong et al. 2021 (bytedance piano_transcription, models.py), layer for
// layer: `crnn_highres` (Regress_onset_offset_frame_velocity_CRNN, 20,218,778 trainable
// parameters) and `crnn_pedal` (Regress_pedal_CRNN, 13,861,277). Widths come from config.
#include <torch/torch.h>

#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::transcription {

struct CrnnOptions {
  std::vector<int64_t> conv_channels{48, 64, 96, 128};
  int64_t fc_units = 768;
  int64_t gru_units = 256;
  int64_t classes = 88;
  double conv_dropout = 0.2;
  double fc_dropout = 0.5;
  double bn_momentum = 0.01;
  static CrnnOptions from(const Config& model_config);
};

// Two 3x3 convolutions without bias, each with batch norm and ReLU, then average pooling (1, 2)
// over frequency.
class ConvBlockImpl : public torch::nn::Module {
 public:
  ConvBlockImpl(int64_t in_channels, int64_t out_channels, double momentum);
  torch::Tensor forward(const torch::Tensor& x);

 private:
  torch::nn::Conv2d conv1_{nullptr}, conv2_{nullptr};
  torch::nn::BatchNorm2d bn1_{nullptr}, bn2_{nullptr};
};
TORCH_MODULE(ConvBlock);

// AcousticModelCRnn8Dropout: conv blocks -> linear + BN + ReLU -> 2-layer biGRU -> linear +
// sigmoid. Input [batch, 1, frames, mel bins], output [batch, frames, classes].
class AcousticBranchImpl : public torch::nn::Module {
 public:
  AcousticBranchImpl(const CrnnOptions& options, int64_t mel_bins, int64_t classes);
  torch::Tensor forward(const torch::Tensor& x);
  // Multiply-accumulates for `frames` frames of `mel_bins` input.
  int64_t macs(int64_t frames, int64_t mel_bins) const;

 private:
  CrnnOptions options_;
  std::vector<ConvBlock> blocks_;
  torch::nn::Linear fc5_{nullptr}, fc_{nullptr};
  torch::nn::BatchNorm1d bn5_{nullptr};
  torch::nn::GRU gru_{nullptr};
};
TORCH_MODULE(AcousticBranch);

// Features [batch, frames, mel bins] from batch["features"], or computed here from
// batch["audio"] (inference on raw audio).
torch::Tensor model_input(const TensorMap& batch, const MelFeatures& features);

// Outputs reg_onset_output, reg_offset_output, frame_output, velocity_output, each
// [batch, frames, 88] in (0, 1).
class CrnnHighres : public Model {
 public:
  CrnnHighres(const Config& model_config, const FeatureOptions& features);
  TensorMap forward(const TensorMap& batch) override;
  int64_t macs(int64_t frames) const;
  int64_t macs_per_second() const override;

 private:
  CrnnOptions options_;
  MelFeatures features_;
  torch::nn::BatchNorm2d bn0_{nullptr};
  AcousticBranch frame_{nullptr}, onset_{nullptr}, offset_{nullptr}, velocity_{nullptr};
  torch::nn::GRU onset_gru_{nullptr}, frame_gru_{nullptr};
  torch::nn::Linear onset_fc_{nullptr}, frame_fc_{nullptr};
};

// Outputs reg_pedal_onset_output, reg_pedal_offset_output, pedal_frame_output: [batch, frames, 1].
class CrnnPedal : public Model {
 public:
  CrnnPedal(const Config& model_config, const FeatureOptions& features);
  TensorMap forward(const TensorMap& batch) override;
  int64_t macs(int64_t frames) const;
  int64_t macs_per_second() const override;

 private:
  CrnnOptions options_;
  MelFeatures features_;
  torch::nn::BatchNorm2d bn0_{nullptr};
  AcousticBranch onset_{nullptr}, offset_{nullptr}, frame_{nullptr};
};

}  // namespace mlq::transcription
