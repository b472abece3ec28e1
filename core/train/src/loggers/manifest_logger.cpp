// Metric points into the manifest (one transaction per batch), which also beats the run's
// heartbeat so that `runner runs` can tell a live run from a dead one. Through Run::record: while
// a manifest server is away, the writes wait and training goes on.
#include "loggers/logger.hpp"
#include "mlq/tracking/run.hpp"

namespace mlq {
namespace {

class ManifestLogger : public Logger {
 public:
  explicit ManifestLogger(Run& run) : run_(run) {}
  void write(const std::vector<MetricPoint>& points) override {
    run_.record([id = run_.id(), points](Manifest& m) { m.log_metrics(id, points); });
    heartbeat();
  }
  void heartbeat() override {
    run_.record([id = run_.id()](Manifest& m) { m.heartbeat(id); });
  }
  void truncate_after(int64_t step) override {
    run_.record([id = run_.id(), step](Manifest& m) { m.truncate_metrics_after(id, step); });
  }

 private:
  Run& run_;
};

}  // namespace

std::unique_ptr<Logger> make_manifest_logger(Run& run) {
  return std::make_unique<ManifestLogger>(run);
}

}  // namespace mlq
