#pragma once
// A pitch-shift ensemble for models over a semitone spectrogram: the features are also shifted
// by a few semitones, the model run on each shifted copy, and each copy's note outputs shifted
// back and averaged with the unshifted ones. The views differ where the semitone bands meet
// the STFT's bins and in what lies beyond the edge bands, which the model's harmonic stacks
// carry across the keyboard; their average keeps what they agree on, and on an unseen piano
// drops harmonics taken for notes (docs/transcription.md, "Eighth round").
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include "mlq/plugin.hpp"

namespace mlq::transcription {

struct PitchEnsemble {
  std::vector<int64_t> shifts;    // semitones, none 0; empty: the model alone
  int64_t bins_per_semitone = 1;  // bands per semitone of the features
  double silence = 0;             // the features' value for no sound: what shifts bring in

  // From [inference] pitch_shifts (default: none).
  static PitchEnsemble from(const Config& config, const FeatureOptions& features);
  // `shifts` checked: distinct, non-zero, at most 12 either way, and [features] filterbank =
  // "semitone"; errors name `what` (the key or option they came from).
  static PitchEnsemble of(std::vector<int64_t> shifts, const FeatureOptions& features,
                          const std::string& what);
  // A command-line list, "-2,-1,1,2", or "none".
  static PitchEnsemble parse(const std::string& list, const FeatureOptions& features,
                             const std::string& what);
  bool empty() const { return shifts.empty(); }
};

// `features` [batch, frames, bands] shifted up (positive) or down by `bands`, `fill` where the
// shift leaves no values.
torch::Tensor shift_bands(const torch::Tensor& features, int64_t bands, double fill);

// The model's outputs for `batch` (which holds "features"), with the four note outputs
// ([batch, frames, 88] probabilities) averaged over the ensemble's shifts; the logits and the
// pedal's outputs are the unshifted pass's.
TensorMap forward_with_ensemble(Model& model, const TensorMap& batch,
                                const PitchEnsemble& ensemble);

}  // namespace mlq::transcription
