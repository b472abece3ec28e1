#pragma once
#include <torch/optim/optimizer.h>

#include <memory>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"

namespace mlq {

// [trainer.optimizer]: name = "sgd" | "adam" | "adamw", lr, weight_decay, momentum (sgd),
// nesterov (sgd), betas (adam/adamw), eps, amsgrad (adam/adamw).
std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& optimizer_config,
                                                        std::vector<torch::Tensor> parameters);

// [trainer.scheduler]: name = "none" | "step" | "exponential" | "cosine"; warmup_steps (linear
// warm-up from 0, combinable with any of them); step: step_size, gamma; exponential: gamma (per
// step); cosine: min_lr, over max_steps (or total_steps). The rate is a pure function of the
// step, so resuming needs no scheduler state beyond the step.
class LrSchedule {
 public:
  LrSchedule(const Config& scheduler_config, double base_lr, int64_t max_steps);
  double at(int64_t step) const;

 private:
  std::string name_;
  double base_lr_;
  int64_t warmup_steps_;
  int64_t step_size_;
  double gamma_;
  double min_lr_;
  int64_t total_steps_;
};

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr);

}  // namespace mlq
