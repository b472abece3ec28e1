#pragma once
// Cross-entropy against the batch's soft targets ("target" [batch, classes]: one-hot, or mixed
// by mixup) with label smoothing: each target becomes (1 - e) * target + e / classes.
#include "mlq/plugin.hpp"

namespace mlq::classification {

// [loss]: label_smoothing (e, default 0.1).
LossFn cross_entropy(const Config& loss_config);

}  // namespace mlq::classification
