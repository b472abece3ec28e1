#pragma once
#include <torch/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "mlq/launch/trainer_options.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/train/callback.hpp"
#include "mlq/train/data_loader.hpp"
#include "mlq/train/optim.hpp"
#include "mlq/train/stop_signal.hpp"
#include "mlq/train/task.hpp"

namespace mlq {

class MetricLog;
class Strategy;
class WeightAverage;
struct Throughput {  // training time, for the line at the end of fit()
  double seconds = 0;
  int64_t steps = 0;
  int64_t samples = 0;
};

// Owns the loop around a Task's steps: optimisation, validation, callbacks, checkpoints.
class Trainer {
 public:
  // `run` may be null (nothing is written); only rank 0 writes.
  Trainer(const Config& config, Task& task, Run* run, int rank = 0, int world_size = 1);
  ~Trainer();

  void add_callback(std::shared_ptr<Callback> callback);
  // The built-in callbacks per config: checkpoint, early stopping, lr monitor, progress bar.
  // Checkpoints, early stopping, ...; with the registry, the metrics' declared directions give
  // the monitors' default modes.
  void add_default_callbacks(const Registry* registry = nullptr);
  // The registered callbacks the config turns on: `[callbacks] names = ["a", "b"]`, each built
  // from its table [callbacks.a] by the factory a plugin registered under that name, in order,
  // before the checkpoint callback. An unknown name is a ConfigError naming the registered ones.
  void add_configured_callbacks(const Registry& registry);
  // In the order their hooks run (the checkpoint callback always last).
  std::vector<std::string> callback_names() const;

  // Builds the model, optimiser, schedule and loaders (checking every value they read); fit,
  // validate and test call it when needed. Call it early to reject a bad config before a run
  // exists.
  void setup();
  // Gives a trainer built without a run its run (after setup(): metrics, TensorBoard, media).
  void attach_run(Run* run);

  // Trains to max_steps/max_epochs or until a callback stops it; resumes from a checkpoint.
  void fit(const std::filesystem::path& resume_from = {});
  // Evaluates on a split (limit_val_batches applies to validation); logs val_*/test_* metrics.
  // With trainer.ema_decay, the averaged weights are evaluated.
  Scalars validate(Split split = Split::Validation);
  // Tests with the weights of a checkpoint (empty: the current weights, averaged if averaging).
  Scalars test(const std::filesystem::path& weights = {});

  // State for callbacks.
  const TrainerOptions& options() const { return options_; }
  const Config& config() const { return config_; }
  Run* run() const { return run_; }
  bool is_global_zero() const;
  int64_t step() const { return step_; }
  int64_t total_steps() const;
  int64_t epoch() const { return loader_ ? loader_->position().epoch : 0; }
  double lr() const;
  int64_t nonfinite_count() const { return nonfinite_count_; }
  void request_stop(const std::string& reason);
  bool stop_requested() const { return !stop_reason_.empty(); }
  // Logs a scalar at the current step (metrics.csv and the manifest, rank 0).
  void log_metric(const std::string& key, double value);
  void flush_metrics();
  // The end of the run for TensorBoard's hparams dashboard (after testing): "success" or
  // "failure"; an interrupted run, which may resume, reports nothing.
  void log_run_end(bool success);

  // Rank 0's `value` on every rank of a data-parallel job (`value` itself with one process);
  // each key once per job.
  std::string share_from_global_zero(const std::string& key, const std::string& value);

  void save_checkpoint(const std::filesystem::path& path);
  void load_checkpoint(const std::filesystem::path& path);
  void load_weights(const std::filesystem::path& path);

 private:
  void train_one_step();
  void end_epoch();
  // Epoch-end hooks and per-epoch validation for an epoch that just finished.
  void after_epoch(int64_t finished_epoch);
  template <class Hook>
  void each_callback(Hook&& hook);
  // validate() and test(); `averaged`: with the moving average of the weights, if there is one.
  Scalars evaluate(Split split, bool averaged);

  Config config_;
  TrainerOptions options_;
  Task& task_;
  Run* run_;
  std::unique_ptr<Strategy> strategy_;        // single process or data-parallel
  Precision precision_ = Precision::Float32;  // trainer.precision, "auto" resolved in setup()
  std::shared_ptr<Model> model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<LrSchedule> schedule_;
  std::unique_ptr<WeightAverage> weight_average_;  // trainer.ema_decay > 0
  std::unique_ptr<DataLoader> loader_;
  std::vector<std::shared_ptr<Callback>> callbacks_;
  std::unique_ptr<MetricLog> metric_log_;  // rank 0 with a run
  Throughput throughput_;
  bool interrupted_ = false;
  int64_t step_ = 0;
  int64_t nonfinite_count_ = 0;
  std::string stop_reason_;
  bool is_setup_ = false;
};

}  // namespace mlq
