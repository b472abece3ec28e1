#pragma once
// The "mixup" augmentation (Zhang et al. 2018), on the waveform as PANNs does: an example
// becomes lambda * itself + (1 - lambda) * another example of the batch, its "target" the same
// mix of the two targets, with lambda = max(l, 1 - l) for l ~ Beta(alpha, alpha), so the example
// stays the larger part of the mix.
#include "mlq/plugin.hpp"

namespace mlq::classification {

// [augment.mixup]: alpha (default 0.4), keys (what is mixed: ["audio", "target"]).
std::unique_ptr<BatchAugmentor> make_mixup(const Config& config);

// A Beta(alpha, alpha) draw from `rng` alone (two Marsaglia-Tsang gamma draws).
double beta_symmetric(double alpha, AugmentRng& rng);

}  // namespace mlq::classification
