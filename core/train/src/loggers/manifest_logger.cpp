// Metric points into the manifest (one transaction per batch), which also beats the run's
// heartbeat so that `runner runs` can tell a live run from a dead one.
#include "loggers/logger.hpp"
#include "mlq/tracking/run.hpp"

namespace mlq {
namespace {

class ManifestLogger : public Logger {
 public:
  explicit ManifestLogger(Run& run) : run_(run) {}
  void write(const std::vector<MetricPoint>& points) override {
    run_.manifest().log_metrics(run_.id(), points);
    run_.manifest().heartbeat(run_.id());
  }
  void heartbeat() override { run_.manifest().heartbeat(run_.id()); }
  void truncate_after(int64_t step) override {
    run_.manifest().truncate_metrics_after(run_.id(), step);
  }

 private:
  Run& run_;
};

}  // namespace

std::unique_ptr<Logger> make_manifest_logger(Run& run) {
  return std::make_unique<ManifestLogger>(run);
}

}  // namespace mlq
