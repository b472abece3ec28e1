// A sweep's settings and space as JSON, and `runner sweep list|show`.
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <ostream>

#include "mlq/util/duration.hpp"
#include "mlq/util/error.hpp"
#include "runs/runs_options.hpp"
#include "sweep/sweep.hpp"

namespace mlq::sweep {

std::string settings_json(const Settings& s) {
  std::vector<std::string> dirs;
  for (const auto& dir : s.plugin_dirs) dirs.push_back(dir.string());
  return nlohmann::json{{"config_file", s.config_file.string()},
                        {"task", s.task},
                        {"overrides", s.overrides},
                        {"plugin_dirs", dirs},
                        {"seed", s.seed},
                        {"retries", s.retries},
                        {"max_failures", s.max_failures},
                        {"pruning", {{"min_steps", s.min_steps}, {"eta", s.eta}}},
                        {"manifest", s.manifest}}
      .dump();
}

Settings parse_settings(const std::string& text) {
  const nlohmann::json j = nlohmann::json::parse(text);
  Settings s;
  s.config_file = j.at("config_file").get<std::string>();
  s.task = j.at("task").get<std::string>();
  s.overrides = j.at("overrides").get<std::vector<std::string>>();
  for (const auto& dir : j.at("plugin_dirs")) s.plugin_dirs.emplace_back(dir.get<std::string>());
  s.seed = j.at("seed").get<uint64_t>();
  s.retries = j.at("retries").get<int64_t>();
  s.max_failures = j.at("max_failures").get<int64_t>();
  s.min_steps = j.at("pruning").at("min_steps").get<int64_t>();
  s.eta = j.at("pruning").at("eta").get<int64_t>();
  s.manifest = j.at("manifest").get<std::string>();
  return s;
}

std::string space_json(const SearchSpace& space) {
  nlohmann::json dims = nlohmann::json::array();
  for (const Dimension& d : space.dimensions) dims.push_back(d.text);
  return dims.dump();
}

SearchSpace space_of(const SweepRecord& sweep) {
  std::vector<std::string> texts =
      nlohmann::json::parse(sweep.space).get<std::vector<std::string>>();
  SearchSpace space = parse_search_space(texts);
  return space;
}

namespace {

std::string objective_text(const std::optional<double>& value) {
  return value ? fmt::format("{:.6g}", *value) : "-";
}

// Trials with an objective, best first; then the others by number.
std::vector<SweepTrial> best_first(std::vector<SweepTrial> trials, const SweepRecord& sweep) {
  std::stable_sort(trials.begin(), trials.end(), [&](const SweepTrial& a, const SweepTrial& b) {
    if (a.objective.has_value() != b.objective.has_value()) return a.objective.has_value();
    if (!a.objective) return a.number < b.number;
    return sweep.direction == "min" ? *a.objective < *b.objective : *a.objective > *b.objective;
  });
  return trials;
}

}  // namespace

int list_sweeps(const std::string& location, std::ostream& out) {
  if (!manifest_exists(location)) {
    out << "no sweeps yet (" << location << ")\n";
    return 0;
  }
  const Manifest manifest(location);
  const std::vector<SweepRecord> sweeps = manifest.list_sweeps();
  if (sweeps.empty()) {
    out << "no sweeps yet (" << manifest.location() << ")\n";
    return 0;
  }
  std::vector<std::vector<std::string>> rows{
      {"ID", "TASK", "STATUS", "STRATEGY", "TRIALS", "OBJECTIVE", "BEST"}};
  for (const SweepRecord& s : sweeps) {
    const auto trials = best_first(manifest.sweep_trials(s.id), s);
    const auto done = std::count_if(trials.begin(), trials.end(), [](const SweepTrial& t) {
      return t.status == kFinished || t.status == kPruned;
    });
    rows.push_back({s.id, s.task, s.status, s.strategy, fmt::format("{}/{}", done, s.trials),
                    s.objective + " " + s.direction,
                    trials.empty() ? "-" : objective_text(trials.front().objective)});
  }
  runs::print_table(out, rows);
  return 0;
}

int show_sweep(const std::string& location, const std::string& id, std::ostream& out) {
  if (!manifest_exists(location))
    throw UserError(fmt::format("no sweep '{}': no runs yet ({})", id, location));
  const Manifest manifest(location);
  const auto sweep = manifest.find_sweep(id);
  if (!sweep) throw UserError(fmt::format("no sweep '{}' in {}", id, manifest.location()));
  const Settings settings = parse_settings(sweep->settings);
  const std::vector<SweepTrial> trials = best_first(manifest.sweep_trials(sweep->id), *sweep);
  out << fmt::format("sweep {} ({}): {}\n", sweep->id, sweep->task, sweep->status);
  if (!sweep->error.empty()) out << "error: " << sweep->error << "\n";
  out << fmt::format("strategy {}, {} trials, seed {}, objective {} ({})\n", sweep->strategy,
                     sweep->trials, settings.seed, sweep->objective, sweep->direction);
  out << "space: "
      << fmt::format(
             "{}",
             fmt::join(nlohmann::json::parse(sweep->space).get<std::vector<std::string>>(), "  "))
      << "\n";
  if (settings.min_steps > 0)
    out << fmt::format("pruning: successive halving from {} steps, eta {}\n", settings.min_steps,
                       settings.eta);
  std::map<std::string, int> by_status;
  for (const SweepTrial& t : trials) ++by_status[t.status];
  std::string counts;
  for (const auto& [status, count] : by_status)
    counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", count, status);
  out << "trials: " << (counts.empty() ? "none yet" : counts) << "\n\n";
  std::vector<std::vector<std::string>> rows{
      {"TRIAL", "STATUS", sweep->objective, "RUN", "ATTEMPTS", "PARAMS"}};
  for (const SweepTrial& t : trials)
    rows.push_back({std::to_string(t.number), t.status, objective_text(t.objective),
                    t.run_id.empty() ? "-" : t.run_id, std::to_string(t.attempts),
                    fmt::format("{}", fmt::join(t.params, " "))});
  runs::print_table(out, rows);
  return 0;
}

}  // namespace mlq::sweep
