#include "loggers/metric_log.hpp"

#include "mlq/launch/trainer_options.hpp"

namespace mlq {
namespace {
constexpr size_t kFlushPoints = 256;
constexpr auto kFlushInterval = std::chrono::seconds(2);
}  // namespace

MetricLog::MetricLog(std::vector<std::unique_ptr<Logger>> loggers)
    : loggers_(std::move(loggers)), last_flush_(std::chrono::steady_clock::now()) {}

void MetricLog::add(const std::string& key, int64_t step, double value) {
  pending_.push_back({key, step, value, now_seconds()});
  if (pending_.size() >= kFlushPoints ||
      std::chrono::steady_clock::now() - last_flush_ > kFlushInterval)
    flush();
}

void MetricLog::heartbeat_if_due() {
  if (std::chrono::steady_clock::now() - last_flush_ > kFlushInterval) flush();
}

void MetricLog::flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (pending_.empty()) {
    for (auto& logger : loggers_) logger->heartbeat();
    return;
  }
  // In order, the manifest first: when a logger fails, the points stay pending and every logger
  // gets them at the next flush (as one write did before loggers were separate).
  for (auto& logger : loggers_) logger->write(pending_);
  pending_.clear();
}

bool MetricLog::wants_media(Split split) const {
  for (const auto& logger : loggers_)
    if (logger->wants_media(split)) return true;
  return false;
}

void MetricLog::log_media(const std::string& prefix, const EvaluationMedia& media, int64_t step,
                          Split split) {
  for (auto& logger : loggers_)
    if (logger->wants_media(split)) logger->log_media(prefix, media, step, split);
}

void MetricLog::truncate_after(int64_t step) {
  pending_.clear();
  for (auto& logger : loggers_) logger->truncate_after(step);
}

void MetricLog::run_end(bool success) {
  for (auto& logger : loggers_) logger->run_end(success);
}

std::vector<std::unique_ptr<Logger>> make_run_loggers(Run& run, const Config& config,
                                                      const TrainerOptions& options) {
  std::vector<std::unique_ptr<Logger>> loggers;
  loggers.push_back(make_manifest_logger(run));
  loggers.push_back(make_csv_logger(run));
  loggers.push_back(make_examples_logger(run));
  if (options.tensorboard) loggers.push_back(make_tensorboard_logger(run, config));
  return loggers;
}

}  // namespace mlq
