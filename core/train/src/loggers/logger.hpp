#pragma once
// Where a run's scalars and media go. One logger per destination (metrics.csv, the manifest,
// TensorBoard, the examples/ folder), each in its own file; the trainer talks to a MetricLog,
// which batches and fans out to them, and knows no concrete logger.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlq/train/evaluation.hpp"

namespace mlq {

struct MetricPoint;

class Logger {
 public:
  virtual ~Logger() = default;
  // A batch of points, in order; a logger that fails throws, and gets the same points again
  // (with any newer ones) at the next write.
  virtual void write(const std::vector<MetricPoint>& points) = 0;
  // Called when nothing was written for a while: long evaluations still show the run is alive.
  virtual void heartbeat() {}
  // Whether log_media wants the media of this split (building them costs time).
  virtual bool wants_media(Split) const { return false; }
  // `prefix`: val_ or test_.
  virtual void log_media(const std::string& /*prefix*/, const EvaluationMedia&, int64_t /*step*/,
                         Split) {}
  // A resumed run recomputes the steps after its checkpoint: forget what came after `step`.
  virtual void truncate_after(int64_t /*step*/) {}
  // The run ended ("success" or not), after testing; an interrupted run reports nothing.
  virtual void run_end(bool /*success*/) {}
};

class Config;
class Run;
struct TrainerOptions;

// One file each.
std::unique_ptr<Logger> make_manifest_logger(Run& run);
std::unique_ptr<Logger> make_csv_logger(Run& run);
std::unique_ptr<Logger> make_examples_logger(Run& run);
std::unique_ptr<Logger> make_tensorboard_logger(Run& run, const Config& config);

// The loggers of a run: the manifest, metrics.csv, examples/ (test media), and TensorBoard when
// trainer.tensorboard is on.
std::vector<std::unique_ptr<Logger>> make_run_loggers(Run& run, const Config& config,
                                                      const TrainerOptions& options);

}  // namespace mlq
