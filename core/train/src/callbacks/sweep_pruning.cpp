// Asynchronous successive halving (ASHA, Li et al. 2020) for a sweep's trial: rungs at
// min_steps * eta^k steps; at the first validation at or past a rung, the trial records its
// objective there and goes on only if it is among the best 1/eta of the trials that reached that
// rung so far (the best one when fewer than eta did), else it stops as PRUNED.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "callbacks/sweep_pruning.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/train/trainer.hpp"
#include "mlq/util/error.hpp"

namespace mlq {
namespace {

class SweepPruning : public Callback {
 public:
  explicit SweepPruning(const Config& sweep)
      : sweep_id_(sweep.get_string("id")),
        trial_(sweep.get_int("trial")),
        objective_(sweep.get_string("objective")),
        minimize_(sweep.get_string("direction") == "min"),
        min_steps_(sweep.get_int("pruning.min_steps", 0, Range::at_least(1))),
        eta_(sweep.get_int("pruning.eta", 3, Range::at_least(2))) {}

  std::string name() const override { return "sweep_pruning"; }

  void on_validation_end(Trainer& trainer, const Scalars& metrics) override {
    if (!trainer.is_global_zero() || !trainer.run()) return;
    const auto found = metrics.find(objective_);
    if (found == metrics.end()) return;
    // The rungs this validation passed and this trial has not reported yet.
    for (int64_t rung = next_rung_; rung_step(rung) <= trainer.step(); ++rung) {
      next_rung_ = rung + 1;
      const std::vector<double> values =
          trainer.run()->manifest().report_rung(sweep_id_, rung, trial_, found->second);
      if (!promotable(found->second, values))
        throw Pruned(fmt::format(
            "pruned at step {} (rung {}, {} steps): {} {:.6g} is not among "
            "the best 1/{} of {} trials there",
            trainer.step(), rung, rung_step(rung), objective_, found->second, eta_, values.size()));
    }
  }

  std::string state() const override { return std::to_string(next_rung_); }
  void load_state(const std::string& state) override {
    if (!state.empty()) next_rung_ = std::stoll(state);
  }

 private:
  int64_t rung_step(int64_t rung) const {
    return static_cast<int64_t>(static_cast<double>(min_steps_) * std::pow(eta_, rung));
  }

  // Among the best floor(n / eta) values (at least the best one); NaN is never among them.
  bool promotable(double value, std::vector<double> values) const {
    if (std::isnan(value)) return false;
    values.erase(
        std::remove_if(values.begin(), values.end(), [](double v) { return std::isnan(v); }),
        values.end());
    std::sort(values.begin(), values.end());
    if (!minimize_) std::reverse(values.begin(), values.end());
    const size_t keep = std::max<size_t>(1, values.size() / static_cast<size_t>(eta_));
    const double threshold = values[keep - 1];
    return minimize_ ? value <= threshold : value >= threshold;
  }

  std::string sweep_id_;
  int64_t trial_;
  std::string objective_;
  bool minimize_;
  int64_t min_steps_;
  int64_t eta_;
  int64_t next_rung_ = 0;
};

}  // namespace

std::shared_ptr<Callback> make_sweep_pruning(const Config& sweep) {
  return std::make_shared<SweepPruning>(sweep);
}

}  // namespace mlq
