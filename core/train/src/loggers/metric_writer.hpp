#pragma once
#include <chrono>
#include <fstream>
#include <memory>
#include <vector>

#include "loggers/tensorboard_file.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"

namespace mlq {

// Buffers metric points of a run and writes them to metrics.csv and the manifest in batches
// (each flush is one transaction), so logging costs microseconds per step. With `tensorboard`,
// every point also goes at once to an event file in <run dir>/tb/ (a new file per process).
class MetricWriter {
 public:
  MetricWriter(Run& run, bool tensorboard);
  void add(const std::string& key, int64_t step, double value);
  void flush();
  // Flushes (which beats the heartbeat) when the last flush is older than the flush interval.
  void heartbeat_if_due();
  // A resumed run recomputes the steps after its checkpoint: drop what was logged after it.
  // Also tells TensorBoard to drop this run's events after `step`.
  void truncate_after(int64_t step);
  // The run's TensorBoard event file; null when trainer.tensorboard is off.
  EventFileWriter* events() { return events_.get(); }

 private:
  Run& run_;
  std::vector<MetricPoint> pending_;
  std::chrono::steady_clock::time_point last_flush_;
  std::unique_ptr<EventFileWriter> events_;
};

}  // namespace mlq
