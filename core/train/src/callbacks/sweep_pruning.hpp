#pragma once
#include <memory>

#include "mlq/train/callback.hpp"

namespace mlq {

// For a trial of a sweep with pruning: the config's [sweep] table (id, trial, objective,
// direction, pruning.min_steps, pruning.eta), which `runner sweep` adds to each trial's config.
std::shared_ptr<Callback> make_sweep_pruning(const Config& sweep);

}  // namespace mlq
