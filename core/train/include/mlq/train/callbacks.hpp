#pragma once
#include <chrono>
#include <deque>
#include <string>
#include <vector>

#include "mlq/tracking/metric_direction.hpp"
#include "mlq/train/callback.hpp"

namespace mlq {

// "min" or "max": which direction of a monitored metric is better.
bool is_improvement(const std::string& mode, double candidate, double best, double min_delta);

// [trainer.checkpoint]: keeps the top-k checkpoints by `monitor` (mode min/max) plus last.pt;
// every_n_steps also saves last.pt between validations. Records the best in the manifest.
class CheckpointCallback : public Callback {
 public:
  // `directions`: the monitor's direction when `mode` is not set.
  explicit CheckpointCallback(const Config& config, const MetricDirections& directions = {});
  std::string name() const override { return "checkpoint"; }
  void on_train_batch_end(Trainer& trainer, const StepInfo& info) override;
  void on_validation_end(Trainer& trainer, const Scalars& metrics) override;
  void on_train_end(Trainer& trainer) override;
  std::string state() const override;
  void load_state(const std::string& state) override;
  std::string best_path() const { return kept_.empty() ? "" : kept_.front().path; }

 private:
  struct Kept {
    double score;
    std::string path;
  };
  void save_last(Trainer& trainer);
  std::string monitor_;
  std::string mode_;
  int64_t save_top_k_;
  bool save_last_;
  int64_t every_n_steps_;
  std::vector<Kept> kept_;  // best first
};

// [trainer.early_stopping]: stops when `monitor` has not improved by min_delta for `patience`
// validations.
class EarlyStopping : public Callback {
 public:
  explicit EarlyStopping(const Config& config, const MetricDirections& directions = {});
  std::string name() const override { return "early_stopping"; }
  void on_validation_end(Trainer& trainer, const Scalars& metrics) override;
  std::string state() const override;
  void load_state(const std::string& state) override;

 private:
  std::string monitor_;
  std::string mode_;
  int64_t patience_;
  double min_delta_;
  double best_ = 0;
  bool has_best_ = false;
  int64_t bad_validations_ = 0;
};

// Logs the learning rate every log_every_n_steps.
class LrMonitor : public Callback {
 public:
  std::string name() const override { return "lr_monitor"; }
  void on_train_batch_end(Trainer& trainer, const StepInfo& info) override;
};

// Step, loss, throughput and ETA: one updating line on a terminal, plain lines otherwise.
class ProgressBar : public Callback {
 public:
  ProgressBar();
  std::string name() const override { return "progress_bar"; }
  void on_train_start(Trainer& trainer) override;
  void on_train_batch_end(Trainer& trainer, const StepInfo& info) override;
  void on_validation_end(Trainer& trainer, const Scalars& metrics) override;
  void on_train_end(Trainer& trainer) override;

 private:
  bool terminal_;
  std::deque<std::pair<double, int64_t>> recent_;  // (seconds, samples) of the last steps
  std::chrono::steady_clock::time_point last_print_;
  int64_t start_step_ = 0;
};

}  // namespace mlq
