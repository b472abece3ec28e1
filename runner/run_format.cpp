#include "run_format.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>

#include "mlq/util/error.hpp"

namespace mlq {

std::string local_time(double seconds) {
  if (seconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

double duration_seconds(const RunRecord& run) {
  if (run.start_time <= 0) return -1;
  double end = run.end_time > 0 ? run.end_time : (run.status == kRunning ? now_seconds() : -1);
  if (end < 0) return -1;
  return std::max(0.0, end - run.start_time);
}

std::string format_value(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{:.6g}", value);
}

RunRecord existing_run(const Manifest& manifest, const std::string& id) {
  if (id == "latest") {
    const auto runs = manifest.list_runs("", "", 1);
    if (runs.empty()) throw UserError(manifest.location() + ": no runs yet");
    return runs.front();
  }
  std::optional<RunRecord> found = manifest.find_run(id);
  if (!found) throw UserError(fmt::format("no run '{}' in {}", id, manifest.location()));
  return *found;
}

std::unique_ptr<Manifest> existing_manifest(const std::string& db_path, const std::string& id) {
  if (!manifest_exists(db_path))
    throw UserError(fmt::format("no run '{}': no runs yet ({})", id, db_path));
  return std::make_unique<Manifest>(db_path);
}

}  // namespace mlq
