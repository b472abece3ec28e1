#pragma once
#include <string>

#include "mlq/train/task.hpp"

namespace mlq {

class Trainer;

struct StepInfo {
  int64_t step = 0;  // optimizer steps done, this one included
  double loss = 0;   // mean over the accumulated batches
  double lr = 0;
  int64_t samples = 0;  // examples in this step
  double seconds = 0;   // wall time of this step
  Scalars logs;         // the task's extra logs
};

// Lightning's hook points. Hooks run on every rank; anything that writes checks
// trainer.is_global_zero().
class Callback {
 public:
  virtual ~Callback() = default;
  // Key of this callback's state inside checkpoints.
  virtual std::string name() const = 0;
  virtual void on_train_start(Trainer&) {}
  virtual void on_train_batch_end(Trainer&, const StepInfo&) {}
  virtual void on_train_epoch_end(Trainer&) {}
  virtual void on_validation_end(Trainer&, const Scalars& /*metrics*/) {}
  virtual void on_test_end(Trainer&, const Scalars& /*metrics*/) {}
  virtual void on_train_end(Trainer&) {}
  virtual void on_exception(Trainer&, const std::exception&) {}
  // Saved in and restored from checkpoints.
  virtual std::string state() const { return ""; }
  virtual void load_state(const std::string& /*state*/) {}
};

}  // namespace mlq
