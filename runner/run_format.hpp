#pragma once
// How the runs commands and the report show runs: times, durations, values, and finding a run.
#include <filesystem>
#include <memory>
#include <string>

#include "mlq/tracking/manifest.hpp"

namespace mlq {

std::string local_time(double seconds);  // "2026-11-24 14:05:09", "-" when unset
// Seconds the run took (or has taken so far while RUNNING); negative when unknown.
double duration_seconds(const RunRecord& run);
std::string format_value(double value);  // 6 significant digits; "nan"

// The manifest at `db_path`; UserError naming `id` when there is none yet.
std::unique_ptr<Manifest> existing_manifest(const std::string& db_path, const std::string& id);
// The run named by `id`: its full id, a unique prefix, or "latest" (the newest run); UserError
// when there is none.
RunRecord existing_run(const Manifest& manifest, const std::string& id);

}  // namespace mlq
