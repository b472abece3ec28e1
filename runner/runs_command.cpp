#include "runs_command.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <iostream>
#include <map>
#include <optional>
#include <set>
#include <string_view>

#include "mlq/csv.hpp"
#include "mlq/error.hpp"
#include "mlq/manifest.hpp"
#include "mlq/text.hpp"

namespace mlq {

namespace {

constexpr const char* kUsage =
    "usage: runner runs list [--task TASK] [--status STATUS] [--limit N] "
    "[--format table|csv|json]\n"
    "       runner runs show ID\n";

struct ListOptions {
  std::string task;
  std::string status;
  int64_t limit = 0;
  std::string format = "table";
};

std::string local_time(double seconds) {
  if (seconds <= 0) return "-";
  std::time_t t = static_cast<std::time_t>(seconds);
  std::tm tm{};
  localtime_r(&t, &tm);
  char buffer[32];
  std::strftime(buffer, sizeof(buffer), "%Y-%m-%d %H:%M:%S", &tm);
  return buffer;
}

// Seconds the run took (or has taken so far while RUNNING); negative when unknown.
double duration_seconds(const RunRecord& run) {
  if (run.start_time <= 0) return -1;
  double end = run.end_time > 0 ? run.end_time : (run.status == kRunning ? now_seconds() : -1);
  if (end < 0) return -1;
  return std::max(0.0, end - run.start_time);
}

std::string format_duration(double seconds) {
  if (seconds < 0) return "-";
  auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  if (s < 86400) return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
  return fmt::format("{}d{:02}h", s / 86400, (s % 86400) / 3600);
}

std::string format_value(double value) {
  if (std::isnan(value)) return "nan";
  return fmt::format("{:.6g}", value);
}

// The test_*/val_* keys present in any of the runs, test_ keys first, each group sorted.
std::vector<std::string> summary_keys(const std::vector<std::map<std::string, double>>& last) {
  std::set<std::string> test_keys, val_keys;
  for (const auto& metrics : last)
    for (const auto& [key, value] : metrics) {
      if (key.rfind("test_", 0) == 0) test_keys.insert(key);
      if (key.rfind("val_", 0) == 0) val_keys.insert(key);
    }
  std::vector<std::string> keys(test_keys.begin(), test_keys.end());
  keys.insert(keys.end(), val_keys.begin(), val_keys.end());
  return keys;
}

// Left-aligned columns two spaces apart, each line prefixed with `indent`.
void print_table(std::ostream& out, const std::vector<std::vector<std::string>>& rows,
                 const std::string& indent = "") {
  std::vector<size_t> widths;
  for (const auto& row : rows)
    for (size_t i = 0; i < row.size(); ++i) {
      if (widths.size() <= i) widths.push_back(0);
      widths[i] = std::max(widths[i], row[i].size());
    }
  for (const auto& row : rows) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      if (i + 1 == row.size())
        line += row[i];
      else
        line += fmt::format("{:<{}}  ", row[i], widths[i]);
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out << indent << line << '\n';
  }
}

ListOptions parse_list_options(const std::vector<std::string>& args) {
  ListOptions options;
  for (size_t i = 1; i < args.size(); ++i) {
    std::string name = args[i];
    std::optional<std::string> value;
    if (size_t eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    if (name != "--task" && name != "--status" && name != "--limit" && name != "--format")
      throw UserError(
          fmt::format("runner runs list: unknown option '{}' (expected --task, "
                      "--status, --limit or --format)",
                      args[i]));
    if (!value) {
      if (i + 1 >= args.size())
        throw UserError(fmt::format("runner runs list: option {} needs a value", name));
      value = args[++i];
    }
    if (name == "--task") options.task = *value;
    if (name == "--status") {
      std::string status = *value;
      for (char& c : status) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      if (status != kRunning && status != kFinished && status != kFailed && status != kKilled)
        throw UserError(fmt::format(
            "runner runs list: --status '{}' is not one of RUNNING, FINISHED, FAILED, KILLED",
            *value));
      options.status = status;
    }
    if (name == "--limit") {
      size_t used = 0;
      long long limit = -1;
      try {
        limit = std::stoll(*value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used != value->size() || limit <= 0)
        throw UserError(
            fmt::format("runner runs list: --limit '{}' is not a positive integer", *value));
      options.limit = limit;
    }
    if (name == "--format") {
      if (*value != "table" && *value != "csv" && *value != "json")
        throw UserError(
            fmt::format("runner runs list: --format '{}' is not one of table, csv, json", *value));
      options.format = *value;
    }
  }
  return options;
}

int list_runs(const std::vector<std::string>& args, const std::filesystem::path& db_path,
              std::ostream& out) {
  ListOptions options = parse_list_options(args);
  if (!std::filesystem::exists(db_path)) {
    if (options.format == "json")
      out << "[]\n";
    else if (options.format == "table")
      out << "no runs yet (" << db_path.string() << ")\n";
    return 0;
  }
  Manifest manifest(db_path);
  manifest.mark_dead_runs();
  std::vector<RunRecord> runs = manifest.list_runs(options.task, options.status, options.limit);
  std::vector<std::map<std::string, double>> last;
  for (const RunRecord& run : runs) last.push_back(manifest.last_metrics(run.id));

  if (options.format == "json") {
    out << "[";
    for (size_t r = 0; r < runs.size(); ++r) {
      const RunRecord& run = runs[r];
      out << (r ? ",\n " : "\n ") << "{\"id\": " << json_quote(run.id)
          << ", \"task\": " << json_quote(run.task) << ", \"status\": " << json_quote(run.status)
          << ", \"start_time\": " << json_number(run.start_time)
          << ", \"end_time\": " << (run.end_time > 0 ? json_number(run.end_time) : "null")
          << ", \"duration\": " << json_number(duration_seconds(run))
          << ", \"host\": " << json_quote(run.host) << ", \"pid\": " << run.pid
          << ", \"config_hash\": " << json_quote(run.config_hash)
          << ", \"run_dir\": " << json_quote(run.run_dir) << ", \"metrics\": {";
      bool first = true;
      for (const auto& [key, value] : last[r]) {
        out << (first ? "" : ", ") << json_quote(key) << ": " << json_number(value);
        first = false;
      }
      out << "}}";
    }
    out << (runs.empty() ? "]\n" : "\n]\n");
    return 0;
  }

  if (options.format == "csv") {
    std::vector<std::string> keys = summary_keys(last);
    out << "id,task,status,start_time,end_time,duration_s,host,pid,run_dir";
    for (const auto& key : keys) out << ',' << csv_field(key);
    out << '\n';
    for (size_t r = 0; r < runs.size(); ++r) {
      const RunRecord& run = runs[r];
      double duration = duration_seconds(run);
      out << csv_field(run.id) << ',' << csv_field(run.task) << ',' << run.status << ','
          << fmt::format("{:.3f}", run.start_time) << ','
          << (run.end_time > 0 ? fmt::format("{:.3f}", run.end_time) : "") << ','
          << (duration >= 0 ? fmt::format("{:.3f}", duration) : "") << ',' << csv_field(run.host)
          << ',' << run.pid << ',' << csv_field(run.run_dir);
      for (const auto& key : keys) {
        auto it = last[r].find(key);
        out << ',' << (it == last[r].end() ? "" : fmt::format("{}", it->second));
      }
      out << '\n';
    }
    return 0;
  }

  if (runs.empty()) {
    out << "no runs" << (options.task.empty() && options.status.empty() ? "" : " match") << " ("
        << db_path.string() << ")\n";
    return 0;
  }
  std::vector<std::string> keys = summary_keys(last);
  if (keys.size() > 3) keys.resize(3);
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> header = {"ID", "TASK", "STATUS", "START", "DURATION"};
  for (const auto& key : keys) header.push_back(key);
  rows.push_back(header);
  for (size_t r = 0; r < runs.size(); ++r) {
    const RunRecord& run = runs[r];
    std::vector<std::string> row = {run.id, run.task, run.status, local_time(run.start_time),
                                    format_duration(duration_seconds(run))};
    for (const auto& key : keys) {
      auto it = last[r].find(key);
      row.push_back(it == last[r].end() ? "-" : format_value(it->second));
    }
    rows.push_back(std::move(row));
  }
  print_table(out, rows);
  return 0;
}

int show_run(const std::vector<std::string>& args, const std::filesystem::path& db_path,
             std::ostream& out) {
  if (args.size() != 2)
    throw UserError("runner runs show: expected exactly one run id (runner runs show ID)");
  const std::string& id = args[1];
  if (!std::filesystem::exists(db_path))
    throw UserError(fmt::format("no run '{}': no runs yet ({})", id, db_path.string()));
  Manifest manifest(db_path);
  manifest.mark_dead_runs();
  std::optional<RunRecord> found = manifest.find_run(id);
  if (!found) throw UserError(fmt::format("no run '{}' in {}", id, db_path.string()));
  const RunRecord& run = *found;

  std::vector<std::vector<std::string>> rows = {
      {"id", run.id},
      {"task", run.task},
      {"status", run.status},
      {"start", local_time(run.start_time)},
      {"end", run.end_time > 0 ? local_time(run.end_time) : "-"},
      {"duration", format_duration(duration_seconds(run))},
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

}  // namespace

int runs_command(const std::vector<std::string>& args, const std::filesystem::path& db_path,
                 std::ostream& out) {
  if (args.empty() || args[0] == "list") return list_runs(args, db_path, out);
  if (args[0] == "show") return show_run(args, db_path, out);
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    out << kUsage;
    return 0;
  }
  throw UserError(
      fmt::format("runner runs: unknown subcommand '{}' (expected 'list' or 'show ID')", args[0]));
}

int runs_command(const std::vector<std::string>& args, const std::filesystem::path& db_path) {
  return runs_command(args, db_path, std::cout);
}

}  // namespace mlq
