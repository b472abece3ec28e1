#pragma once
// How training runs across processes. The trainer asks its strategy to place the model, start
// every rank from the same weights, synchronise gradients, agree on losses, stops and values, and
// tell which rank writes; one process (SingleProcess) or a c10d process group (DataParallel).
#include <torch/types.h>

#include <cstdint>
#include <memory>
#include <string>

#include "mlq/launch/trainer_options.hpp"
#include "mlq/train/data_loader.hpp"
#include "mlq/train/task.hpp"
#include "mlq/train/trainer.hpp"

namespace mlq {

class Strategy {
 public:
  virtual ~Strategy() = default;
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // Only rank 0 writes (the run directory, the manifest, the loggers).
  bool is_global_zero() const { return rank_ == 0; }
  const torch::Device& device() const { return device_; }

  // Places the model and makes every rank start from rank 0's weights.
  virtual void setup(Model& model) = 0;
  // This process's share of the training data.
  virtual void shard(DataLoader& /*loader*/) {}
  // Rank 0's parameters and buffers (or its buffers only: BatchNorm statistics) on every rank.
  virtual void broadcast_state(Model& /*model*/, bool /*parameters*/) {}
  // After the random state is set (start, resume): ranks above 0 draw their own random numbers.
  virtual void reseed(int64_t /*step*/) {}
  // Whether a stop signal reached any process, so that all stop at the same step.
  virtual bool stop_signalled();
  // Whether an evaluation may be abandoned midway on a stop signal.
  virtual bool can_abandon_evaluation() const { return true; }
  // The loss to step on: the mean over ranks, NaN when any rank's loss is not finite.
  virtual double agree_on_loss(double loss) { return loss; }
  // Before the backward pass of a step's last micro-batch (gradient sync may overlap it).
  virtual void before_last_backward() {}
  // After the last backward pass: gradients synchronised, `logs` averaged over ranks; returns
  // the number of samples every rank trained on in this step.
  virtual int64_t finish_backward(Scalars& /*logs*/, int64_t samples) { return samples; }
  // Each value's mean over ranks.
  virtual void average(Scalars& /*values*/) {}
  // Rank 0's `value` on every rank (each key once per job).
  virtual std::string share(const std::string& /*key*/, const std::string& value) { return value; }
  // The throughput line at the end of fit.
  virtual void log_throughput(const Throughput& throughput) const;
  // After fit: whatever checks the ranks agree.
  virtual void after_fit(Model& /*model*/, int64_t /*step*/) {}

 protected:
  Strategy(const TrainerOptions& options, int rank, int world_size);
  const TrainerOptions& options_;
  int rank_;
  int world_size_;
  torch::Device device_;
};

// SingleProcess for one process, DataParallel for world_size > 1. Checks trainer.device.
std::unique_ptr<Strategy> make_strategy(const TrainerOptions& options, int rank, int world_size);
std::unique_ptr<Strategy> make_data_parallel(const TrainerOptions& options, int rank,
                                             int world_size);

}  // namespace mlq
