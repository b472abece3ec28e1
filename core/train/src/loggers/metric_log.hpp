#pragma once
#include <chrono>
#include <memory>
#include <vector>

#include "loggers/logger.hpp"
#include "mlq/tracking/manifest.hpp"

namespace mlq {

// Buffers a run's metric points and hands them to its loggers in batches (each manifest write is
// one transaction), so logging costs microseconds per step; media go straight through.
class MetricLog {
 public:
  explicit MetricLog(std::vector<std::unique_ptr<Logger>> loggers);
  void add(const std::string& key, int64_t step, double value);
  void flush();
  // Flushes (a heartbeat when nothing is pending) when the last flush is older than the interval.
  void heartbeat_if_due();
  bool wants_media(Split split) const;
  void log_media(const std::string& prefix, const EvaluationMedia& media, int64_t step,
                 Split split);
  void truncate_after(int64_t step);
  void run_end(bool success);

 private:
  std::vector<std::unique_ptr<Logger>> loggers_;
  std::vector<MetricPoint> pending_;
  std::chrono::steady_clock::time_point last_flush_;
};

}  // namespace mlq
