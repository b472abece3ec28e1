// runner regress: a fresh run's metrics against a baseline, for CI.
#include <fmt/format.h>
#include <fnmatch.h>
#include <toml++/toml.h>

#include <cmath>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "mlq/config/tree.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/metric_direction.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/cli.hpp"
#include "mlq/util/files.hpp"
#include "run_format.hpp"

namespace mlq {
namespace {

// The baseline's metrics: a run id, `tag:NAME` (the newest finished run tagged NAME), or
// `file:PATH` (a JSON file written by --write-baseline, which can live in the repository).
std::map<std::string, double> baseline_metrics(const Manifest& manifest, const std::string& spec,
                                               std::string& described) {
  if (spec.rfind("file:", 0) == 0) {
    const std::string path = spec.substr(5);
    described = path;
    try {
      const auto json = nlohmann::json::parse(read_file_bytes(path));
      return json.at("metrics").get<std::map<std::string, double>>();
    } catch (const nlohmann::json::exception& e) {
      throw UserError(path + ": expected {\"metrics\": {\"name\": number, ...}} (" + e.what() +
                      ")");
    }
  }
  if (spec.rfind("tag:", 0) == 0) {
    const std::string tag = spec.substr(4);
    for (const RunRecord& run : manifest.list_runs("", kFinished))
      if (manifest.tags(run.id).count(tag)) {
        described = "run " + run.id + " (tag " + tag + ")";
        return manifest.last_metrics(run.id);
      }
    throw UserError(manifest.location() + ": no finished run is tagged '" + tag + "'");
  }
  const RunRecord run = existing_run(manifest, spec);
  described = "run " + run.id;
  return manifest.last_metrics(run.id);
}

bool matches_any(const std::string& key, const std::vector<std::string>& patterns) {
  for (const auto& pattern : patterns)
    if (fnmatch(pattern.c_str(), key.c_str(), 0) == 0) return true;
  return false;
}

// KEY=ABS pairs.
std::map<std::string, double> tolerances(const std::vector<std::string>& items) {
  std::map<std::string, double> result;
  for (const auto& item : items) {
    const size_t equals = item.find('=');
    try {
      if (equals == std::string::npos) throw std::invalid_argument("");
      result[item.substr(0, equals)] = std::stod(item.substr(equals + 1));
    } catch (const std::exception&) {
      throw UserError("--tolerance '" + item + "': expected KEY=ABSOLUTE_TOLERANCE, e.g. " +
                      "test_onset_f1=0.01");
    }
  }
  return result;
}

}  // namespace

int regress_command(const std::vector<std::string>& args) {
  cxxopts::Options options(
      "runner regress",
      "Compare a run's metrics with a baseline; exit status 1 on a regression beyond tolerance");
  options.add_options()("run", "the run to check: ID, prefix or latest",
                        cxxopts::value<std::string>()->default_value("latest"))(
      "baseline", "ID, tag:NAME (newest finished run with that tag) or file:PATH.json",
      cxxopts::value<std::string>())("tolerance", "KEY=ABS allowed worsening (repeatable)",
                                     cxxopts::value<std::vector<std::string>>())(
      "lower-is-better",
      "metric names or globs where lower is better (repeatable; default: by name, losses and "
      "errors lower, the rest higher)",
      cxxopts::value<std::vector<std::string>>())(
      "higher-is-better", "metric names or globs where higher is better (repeatable)",
      cxxopts::value<std::vector<std::string>>())(
      "metrics", "metric globs to compare (repeatable; default test_*)",
      cxxopts::value<std::vector<std::string>>())(
      "write-baseline", "write the run's compared metrics to this JSON file and exit",
      cxxopts::value<std::string>())("db",
                                     "the manifest: a SQLite file or a postgresql:// URL (default: "
                                     "MLQ_DB, else outputs/runs.sqlite)",
                                     cxxopts::value<std::string>()->default_value(""))("h,help",
                                                                                       "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  auto strings = [&](const char* key) {
    return result.count(key) ? result[key].as<std::vector<std::string>>()
                             : std::vector<std::string>{};
  };
  std::vector<std::string> selected = strings("metrics");
  if (selected.empty()) selected = {"test_*"};
  const std::vector<std::string> lower = strings("lower-is-better");
  const std::vector<std::string> higher = strings("higher-is-better");
  const std::map<std::string, double> tolerance = tolerances(strings("tolerance"));

  const Manifest manifest(manifest_location(result["db"].as<std::string>()));
  const RunRecord run = existing_run(manifest, result["run"].as<std::string>());
  std::map<std::string, double> current;
  for (const auto& [key, value] : manifest.last_metrics(run.id))
    if (matches_any(key, selected)) current[key] = value;

  if (result.count("write-baseline")) {
    if (current.empty())
      throw UserError("run " + run.id + " has no metrics matching the --metrics globs");
    nlohmann::json json;
    json["run"] = run.id;
    json["metrics"] = current;
    const std::string path = result["write-baseline"].as<std::string>();
    write_file_atomic(path, json.dump(2) + "\n");
    std::printf("wrote %zu metrics of run %s to %s\n", current.size(), run.id.c_str(),
                path.c_str());
    return 0;
  }
  if (!result.count("baseline"))
    throw UserError("missing --baseline ID|tag:NAME|file:PATH (see runner regress --help)");
  std::string described;
  const std::map<std::string, double> baseline =
      baseline_metrics(manifest, result["baseline"].as<std::string>(), described);

  // The run's config's metrics.directions, else the names (regress loads no plugin).
  MetricDirections directions;
  try {
    directions = metric_directions(Config(toml::parse(run.config_toml), {}));
  } catch (const std::exception&) {  // an old run's config that does not parse: names only
  }
  std::printf("run %s against %s\n", run.id.c_str(), described.c_str());
  std::printf("%-32s %12s %12s %12s %10s  %s\n", "metric", "baseline", "run", "change", "tolerance",
              "verdict");
  int regressions = 0, compared = 0;
  for (const auto& [key, base] : baseline) {
    if (!matches_any(key, selected)) continue;
    ++compared;
    const bool lower_better =
        matches_any(key, lower) || (!matches_any(key, higher) && directions.mode(key) == "min");
    const double allowed = tolerance.count(key) ? tolerance.at(key) : 0.0;
    auto found = current.find(key);
    std::string verdict;
    double value = NAN;
    if (found == current.end()) {
      verdict = "REGRESSED (missing)";
      ++regressions;
    } else {
      value = found->second;
      const double worsening = lower_better ? value - base : base - value;
      if (!std::isfinite(value) || worsening > allowed) {
        verdict = "REGRESSED";
        ++regressions;
      } else {
        verdict = worsening < 0 ? "better" : "ok";
      }
    }
    std::printf("%s\n", fmt::format("{:<32} {:>12.6g} {:>12.6g} {:>+12.4g} {:>10.4g}  {}{}", key,
                                    base, value, value - base, allowed, verdict,
                                    lower_better ? " (lower is better)" : "")
                            .c_str());
  }
  if (compared == 0) throw UserError("the baseline has no metrics matching the --metrics globs");
  std::printf("%d of %d metrics regressed\n", regressions, compared);
  return regressions > 0 ? 1 : 0;
}

}  // namespace mlq
