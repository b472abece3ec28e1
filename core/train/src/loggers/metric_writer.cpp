#include "loggers/metric_writer.hpp"

#include <fmt/format.h>

#include <fstream>

#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"

namespace mlq {
namespace {
constexpr size_t kFlushPoints = 256;
constexpr auto kFlushInterval = std::chrono::seconds(2);
}  // namespace

MetricWriter::MetricWriter(Run& run, bool tensorboard)
    : run_(run), last_flush_(std::chrono::steady_clock::now()) {
  const auto csv = run_.dir() / "metrics.csv";
  if (!std::filesystem::exists(csv)) write_file_atomic(csv, "step,key,value,time\n");
  if (tensorboard) events_ = std::make_unique<EventFileWriter>(run_.dir() / "tb");
}

void MetricWriter::add(const std::string& key, int64_t step, double value) {
  if (events_) events_->add_scalar(key, value, step);
  pending_.push_back({key, step, value, now_seconds()});
  if (pending_.size() >= kFlushPoints ||
      std::chrono::steady_clock::now() - last_flush_ > kFlushInterval)
    flush();
}

void MetricWriter::heartbeat_if_due() {
  if (std::chrono::steady_clock::now() - last_flush_ > kFlushInterval) flush();
}

void MetricWriter::flush() {
  last_flush_ = std::chrono::steady_clock::now();
  if (pending_.empty()) {
    run_.manifest().heartbeat(run_.id());
    return;
  }
  std::string lines;
  for (const auto& point : pending_)
    lines += fmt::format("{},{},{:.9g},{:.3f}\n", point.step, point.key, point.value, point.time);
  // The manifest first: if it fails, the points stay pending and the CSV gets them only once.
  run_.manifest().log_metrics(run_.id(), pending_);
  append_file(run_.dir() / "metrics.csv", lines);
  run_.manifest().heartbeat(run_.id());
  pending_.clear();
}

void MetricWriter::truncate_after(int64_t step) {
  pending_.clear();
  if (events_) events_->add_session_start(step + 1);
  run_.manifest().truncate_metrics_after(run_.id(), step);
  const auto csv = run_.dir() / "metrics.csv";
  std::ifstream in(csv);
  std::string line, kept;
  std::getline(in, line);
  kept = line + "\n";
  while (std::getline(in, line))
    if (!line.empty() && std::stoll(line.substr(0, line.find(','))) <= step) kept += line + "\n";
  write_file_atomic(csv, kept);
}

}  // namespace mlq
