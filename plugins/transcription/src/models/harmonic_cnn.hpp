#pragma once
// `harmonic_cnn`: the demo transcription model, designed to learn on a CPU in minutes (31,180
// parameters for the notes and 216,274 for the pedal branch, 267 M multiply-accumulates per audio
// second, where crnn_highres has 20 M and 12.7 G).
//
// Input: a semitone spectrogram ([features] filterbank = "semitone", band k = MIDI 21 + k), so a
// pitch shift is a shift along frequency and one set of convolution weights serves every key.
//   harmonic stack: copies of the input shifted by the harmonics' and subharmonics' distances in
//     bands (+12, +19, +24, ... and -12, -19, -24 at one band per semitone), as channels
//   trunk: two 3x3 convolutions (time x frequency) with batch norm and ReLU
//   the 88 keys' bands from here on, plus
//     harmonic mixing (residual): 1x1 down to mix_channels, harmonic stack again, 1x1 back up; a
//       key sees the evidence at its octaves and twelfths, so it can tell its own note from a
//       harmonic of a lower one
//     a learned per-key embedding (what the shared weights cannot know about a register)
//   head: per key, (3 x 1) convolutions along time with growing dilation (2 to 32: 0.64 s either
//     side), then past-only ones (history_dilations, none by default), then 1x1 to 4 outputs
//   with `pedal`, a sustain-pedal branch of its own from the input (pedal_branch.hpp)
// Outputs, [batch, frames, 88]: reg_onset, reg_offset, frame and velocity, each as *_logits and
// as *_output (the sigmoid), so losses can work on logits and decoding on probabilities; with
// `pedal`, [batch, frames]: pedal_frame and reg_pedal_offset.
#include <torch/torch.h>

#include <vector>

#include "mlq/plugin.hpp"
#include "models/pedal_branch.hpp"

namespace mlq::transcription {

struct HarmonicCnnOptions {
  int64_t channels = 24;       // first trunk convolution
  int64_t head_channels = 32;  // second trunk convolution and the head
  int64_t mix_channels = 8;
  std::vector<int64_t> head_dilations{2, 4, 8, 16, 32};
  // After those, (3 x 1) convolutions that see frames t - 2d, t - d and t: the note's past (when
  // it began, how it decayed) without looking further ahead, for a stream's short look-ahead.
  std::vector<int64_t> history_dilations;
  std::vector<int64_t> harmonics{1, 2, 3, 4, 5, 6, 7, 8};
  std::vector<int64_t> subharmonics{2, 3, 4};
  double input_mean = -30;  // fixed normalisation of the dB input: (x - mean) / std
  double input_std = 25;
  double bn_momentum = 0.1;
  int64_t key_gru = 0;  // > 0: a GRU along time of this many units per key, shared by the keys
  bool key_gru_bidirectional = false;
  bool pedal = true;  // the sustain-pedal branch (pedal_branch.hpp)
  PedalBranchOptions pedal_branch;
  static HarmonicCnnOptions from(const Config& model_config);
};

// Band offsets of the harmonic stack, subharmonics first: -24, -19, -12, 0, 12, 19, 24, 28, 31,
// 34, 36 at one band per semitone.
std::vector<int64_t> harmonic_shifts(const HarmonicCnnOptions& options, int64_t bins_per_semitone);

// x [batch, C, frames, bands] -> [batch, C x shifts, frames, out_bands]: block i at band f holds x
// at band f + shifts[i], zero beyond the spectrum; out_bands < 0: all the input's bands.
torch::Tensor harmonic_stack(const torch::Tensor& x, const std::vector<int64_t>& shifts,
                             int64_t out_bands = -1);

class HarmonicCnn : public Model {
 public:
  HarmonicCnn(const Config& model_config, const FeatureOptions& features);
  TensorMap forward(const TensorMap& batch) override;
  int64_t macs_per_second() const override;
  // How many frames ahead of a frame its outputs depend on: the trunk's 2 and the centred head
  // layers' dilations (the features' STFT window reaches another n_fft / 2 samples).
  int64_t lookahead_frames() const;

 private:
  // Appends a convolution (no bias), batch norm and ReLU to `layers`; `past_only`: the
  // convolution's frames end at the output's frame instead of being centred on it.
  void add_conv_bn_relu(torch::nn::Sequential& layers, int64_t in, int64_t out,
                        int64_t kernel_frames, int64_t kernel_bands, int64_t dilation = 1,
                        bool past_only = false) const;

  HarmonicCnnOptions options_;
  MelFeatures features_;
  std::vector<int64_t> shifts_;
  int64_t key_stride_;
  torch::nn::Sequential trunk_{nullptr}, mix_in_{nullptr}, mix_out_{nullptr}, head_{nullptr};
  torch::Tensor key_embedding_;
  torch::nn::GRU key_gru_{nullptr};
  torch::nn::Conv2d out_{nullptr};
  PedalBranch pedal_{nullptr};
};

}  // namespace mlq::transcription
