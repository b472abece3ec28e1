// runner runs show ID, runner runs compare ID ID...
#include <fmt/format.h>

#include <map>
#include <ostream>

#include "mlq/tracking/manifest.hpp"
#include "mlq/util/duration.hpp"
#include "mlq/util/error.hpp"
#include "report/run_comparison.hpp"
#include "run_format.hpp"
#include "runs/runs_options.hpp"

namespace mlq::runs {

int show_run(const std::vector<std::string>& args, const std::string& default_db,
             std::ostream& out) {
  cxxopts::Options options = subcommand_options("show",
                                                "A run: its record, tags, params, "
                                                "last metric values and artifacts.");
  const auto parsed = parse_words(options, "ID", args, default_db, out);
  if (!parsed) return 0;
  const std::vector<std::string>& ids = parsed->words;
  if (ids.size() != 1)
    throw UserError("runner runs show: expected exactly one run id (runner runs show ID)");
  auto opened = existing_manifest(parsed->db, ids[0]);
  Manifest& manifest = *opened;
  manifest.mark_dead_runs();
  const RunRecord run = existing_run(manifest, ids[0]);

  std::vector<std::vector<std::string>> rows = {
      {"id", run.id},
      {"task", run.task},
      {"status", run.status},
      {"start", local_time(run.start_time)},
      {"end", run.end_time > 0 ? local_time(run.end_time) : "-"},
      {"duration", format_duration(duration_seconds(run), DurationStyle::Compact)},
      {"heartbeat", local_time(run.heartbeat)},
      {"host", run.host},
      {"pid", std::to_string(run.pid)},
      {"git commit", run.git_commit.empty()
                         ? "-"
                         : run.git_commit + (run.git_dirty ? " (uncommitted changes)" : "")},
      {"plugins", run.plugin_versions.empty() ? "{}" : run.plugin_versions},
      {"config hash", run.config_hash},
      {"best checkpoint", run.best_checkpoint.empty() ? "-" : run.best_checkpoint},
      {"run dir", run.run_dir},
  };
  if (!run.error.empty()) rows.push_back({"error", run.error});
  print_table(out, rows);

  auto section = [&](const std::string& title, std::vector<std::vector<std::string>> lines) {
    out << '\n' << title << ":\n";
    if (lines.empty()) {
      out << "  (none)\n";
      return;
    }
    print_table(out, lines, "  ");
  };

  std::vector<std::vector<std::string>> lines;
  for (const auto& [key, value] : manifest.tags(run.id)) lines.push_back({key, value});
  section("tags", std::move(lines));

  lines.clear();
  for (const auto& [key, value] : manifest.params(run.id)) lines.push_back({key, "=", value});
  section("params", std::move(lines));

  // Last point of each key: metrics() is ordered by step, then insertion.
  std::map<std::string, MetricPoint> last;
  for (const MetricPoint& p : manifest.metrics(run.id)) last[p.key] = p;
  lines.clear();
  for (const auto& [key, p] : last)
    lines.push_back({key, format_value(p.value), fmt::format("(step {})", p.step)});
  section("metrics (last value)", std::move(lines));

  lines.clear();
  for (const Artifact& a : manifest.artifacts(run.id))
    lines.push_back({a.path, a.kind, a.checksum});
  section("artifacts", std::move(lines));
  return 0;
}

// Runs side by side: what differs in their configs, then every metric's last value.
int compare_runs(const std::vector<std::string>& args, const std::string& default_db,
                 std::ostream& out) {
  cxxopts::Options options =
      subcommand_options("compare", "Runs side by side: config differences and metrics.");
  const auto parsed = parse_words(options, "ID ID...", args, default_db, out);
  if (!parsed) return 0;
  const std::vector<std::string>& ids = parsed->words;
  if (ids.size() < 2)
    throw UserError("runner runs compare: expected two or more run ids (runner runs compare A B)");
  auto manifest = existing_manifest(parsed->db, ids[0]);
  std::vector<RunRecord> runs;
  for (const std::string& id : ids) runs.push_back(existing_run(*manifest, id));
  const RunComparison comparison = comparison_of(*manifest, runs);
  std::vector<std::vector<std::string>> rows{{""}, {"task"}, {"status"}, {"duration"}};
  for (const RunRecord& run : runs) {
    rows[0].push_back(run.id);
    rows[1].push_back(run.task);
    rows[2].push_back(run.status);
    rows[3].push_back(format_duration(duration_seconds(run), DurationStyle::Compact));
  }
  print_table(out, rows);

  rows = comparison.config_differences;
  out << "\nconfig differences:\n";
  if (rows.empty())
    out << "  (none: the same config)\n";
  else
    print_table(out, rows, "  ");

  rows.clear();
  for (const std::string& key : comparison.metric_keys) {
    std::vector<std::string> row{key};
    for (const auto& run_metrics : comparison.last_values) {
      auto it = run_metrics.find(key);
      row.push_back(it == run_metrics.end() ? "-" : format_value(it->second));
    }
    rows.push_back(std::move(row));
  }
  out << "\nmetrics (last value):\n";
  if (rows.empty())
    out << "  (none)\n";
  else
    print_table(out, rows, "  ");
  return 0;
}

}  // namespace mlq::runs
