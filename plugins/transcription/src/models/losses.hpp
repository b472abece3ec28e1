#pragma once
#include "mlq/plugin.hpp"

namespace mlq::transcription {

// The reference's loss (regress_onset_offset_frame_velocity_bce): BCE on the onset and offset
// regression targets and the frame roll, masked by mask_roll, plus BCE on velocity / 128 masked by
// the onset roll. A batch without any onset contributes no velocity term (the reference divides by
// zero there).
torch::Tensor regression_bce(const TensorMap& outputs, const TensorMap& batch);

// The demo model's loss, from its logits: BCE on the onset and offset regression targets with
// each cell weighted 1 + positive_weight where its target is above 0 (onsets cover about 0.3 % of
// cells; without the weight a fresh model settles on predicting none), BCE on the frame roll, all
// masked by mask_roll, plus velocity_weight x the velocity BCE masked by the onset roll; for a
// model with pedal outputs, plus pedal_weight x (BCE on the pedal frame roll + the weighted BCE
// on the pedal release regression), per frame.
// [loss] keys: positive_weight (5), velocity_weight (0.5), pedal_weight (1).
LossFn weighted_bce(const Config& loss_config);

}  // namespace mlq::transcription
