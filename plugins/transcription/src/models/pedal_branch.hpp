#pragma once
// The demo model's sustain-pedal branch: features of its own, so that its loss does not compete
// with the notes' for the few channels of harmonic_cnn (a head on the shared features was
// measured and lowered every note score; docs/transcription.md, Note ends).
//
// Input: the normalised spectrogram [batch, 1, frames, bands]; with `pool_first`, `pool` frames
// averaged into one first.
//   two 3x3 convolutions (time x frequency) with batch norm and ReLU, `channels` wide;
//   all bands mixed per frame (a 1x1 convolution over channels x bands) to `hidden` units: where
//     notes are cut together, the pedal came up;
//   (3) convolutions along time with the given dilations (residual), for about a second of
//     context: whether earlier notes still ring under new ones;
//   a 1x1 to the two outputs.
// Outputs [batch, frames]: pedal_frame and reg_pedal_offset, as *_logits and *_output.
#include <torch/torch.h>

#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::transcription {

struct PedalBranchOptions {
  int64_t channels = 16;
  int64_t hidden = 64;
  std::vector<int64_t> dilations{1, 2, 4, 8, 16};
  int64_t gru = 64;  // > 0: a bidirectional GRU of this many units per direction after them
  int64_t pool = 4;  // frames averaged into one after the mix; outputs interpolated back
  // Average the frames before the convolutions instead: the same outputs' rate at a quarter of the
  // cost (false: what checkpoints from before this option were trained with).
  bool pool_first = false;
  double bn_momentum = 0.1;
};

class PedalBranchImpl : public torch::nn::Module {
 public:
  PedalBranchImpl(const PedalBranchOptions& options, int64_t bands);
  // x [batch, 1, frames, bands] -> outputs as above.
  TensorMap forward(const torch::Tensor& x);
  int64_t macs_per_frame() const;

 private:
  PedalBranchOptions options_;
  int64_t bands_;
  torch::nn::Sequential conv_{nullptr}, mix_{nullptr};
  std::vector<torch::nn::Sequential> temporal_;
  torch::nn::GRU gru_{nullptr};
  torch::nn::Conv1d out_{nullptr};
};
TORCH_MODULE(PedalBranch);

}  // namespace mlq::transcription
