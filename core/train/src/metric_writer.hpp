#pragma once
#include <chrono>
#include <fstream>
#include <vector>

#include "mlq/manifest.hpp"
#include "mlq/run.hpp"

namespace mlq {

// Buffers metric points of a run and writes them to metrics.csv and the manifest in batches
// (each flush is one transaction), so logging costs microseconds per step.
class MetricWriter {
 public:
  explicit MetricWriter(Run& run);
  void add(const std::string& key, int64_t step, double value);
  void flush();
  // Flushes (which beats the heartbeat) when the last flush is older than the flush interval.
  void heartbeat_if_due();
  // A resumed run recomputes the steps after its checkpoint: drop what was logged after it.
  void truncate_after(int64_t step);

 private:
  Run& run_;
  std::vector<MetricPoint> pending_;
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace mlq
