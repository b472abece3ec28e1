#include "mlq/train/optim.hpp"
#include "mlq/util/text.hpp"

#include <torch/optim/adam.h>
#include <torch/optim/adamw.h>
#include <torch/optim/sgd.h>

#include <cmath>

namespace mlq {
namespace {

std::tuple<double, double> betas_of(const Config& config) {
  std::vector<double> betas = config.has("betas")
                                  ? config.get_doubles("betas", Range::from_below(0, 1))
                                  : std::vector<double>{0.9, 0.999};
  if (betas.size() != 2)
    throw ConfigError("config key 'trainer.optimizer.betas': expected two numbers, got " +
                      std::to_string(betas.size()));
  return {betas[0], betas[1]};
}

}  // namespace

std::unique_ptr<torch::optim::Optimizer> make_optimizer(const Config& config,
                                                        std::vector<torch::Tensor> parameters) {
  config.check_known_keys(
      "", {"name", "lr", "weight_decay", "momentum", "nesterov", "betas", "eps", "amsgrad"});
  const std::string name = config.get_string("name", "adam");
  const double lr = config.get_double("lr", 1e-3, Range::at_least(0));
  const double weight_decay =
      config.get_double("weight_decay", name == "adamw" ? 1e-2 : 0.0, Range::at_least(0));
  if (name == "sgd") {
    return std::make_unique<torch::optim::SGD>(
        parameters, torch::optim::SGDOptions(lr)
                        .momentum(config.get_double("momentum", 0.0, Range::from_below(0, 1)))
                        .nesterov(config.get_bool("nesterov", false))
                        .weight_decay(weight_decay));
  }
  if (name == "adam") {
    return std::make_unique<torch::optim::Adam>(
        parameters, torch::optim::AdamOptions(lr)
                        .betas(betas_of(config))
                        .eps(config.get_double("eps", 1e-8, Range::above(0)))
                        .weight_decay(weight_decay)
                        .amsgrad(config.get_bool("amsgrad", false)));
  }
  if (name == "adamw") {
    return std::make_unique<torch::optim::AdamW>(
        parameters, torch::optim::AdamWOptions(lr)
                        .betas(betas_of(config))
                        .eps(config.get_double("eps", 1e-8, Range::above(0)))
                        .weight_decay(weight_decay)
                        .amsgrad(config.get_bool("amsgrad", false)));
  }
  std::string near = nearest(name, {"sgd", "adam", "adamw"});
  throw ConfigError("config key 'trainer.optimizer.name' (" + config.origin("name") +
                    "): unknown optimizer '" + name + "', expected sgd, adam or adamw" +
                    (near.empty() ? "" : "; did you mean '" + near + "'?"));
}

LrSchedule::LrSchedule(const Config& config, double base_lr, int64_t max_steps)
    : name_(config.get_string("name", "none")),
      base_lr_(base_lr),
      warmup_steps_(config.get_int("warmup_steps", 0, Range::at_least(0))),
      step_size_(config.get_int("step_size", 1000, Range::at_least(1))),
      gamma_(config.get_double("gamma", name_ == "exponential" ? 0.999 : 0.1, Range::above(0))),
      min_lr_(config.get_double("min_lr", 0.0, Range::at_least(0))),
      total_steps_(config.get_int("total_steps", max_steps, Range::at_least(0))) {
  config.check_known_keys("",
                          {"name", "warmup_steps", "step_size", "gamma", "min_lr", "total_steps"});
  if (name_ != "none" && name_ != "step" && name_ != "exponential" && name_ != "cosine")
    throw ConfigError("config key 'trainer.scheduler.name' (" + config.origin("name") +
                      "): unknown schedule '" + name_ +
                      "', expected none, step, exponential or cosine");
}

double LrSchedule::at(int64_t step) const {
  double lr = base_lr_;
  if (name_ == "step") {
    lr = base_lr_ * std::pow(gamma_, static_cast<double>(step / step_size_));
  } else if (name_ == "exponential") {
    lr = base_lr_ * std::pow(gamma_, static_cast<double>(step));
  } else if (name_ == "cosine") {
    const double span = std::max<int64_t>(1, total_steps_ - warmup_steps_);
    const double progress = std::clamp(static_cast<double>(step - warmup_steps_) / span, 0.0, 1.0);
    lr = min_lr_ + 0.5 * (base_lr_ - min_lr_) * (1.0 + std::cos(M_PI * progress));
  }
  if (warmup_steps_ > 0 && step < warmup_steps_)
    lr *= static_cast<double>(step + 1) / static_cast<double>(warmup_steps_);
  return lr;
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double lr) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(lr);
}

}  // namespace mlq
