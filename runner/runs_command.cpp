#include "runs_command.hpp"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <ctime>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string_view>
#include <variant>

#include "mlq/audio/csv.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/query.hpp"
#include "mlq/util/duration.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "run_comparison.hpp"
#include "run_format.hpp"

namespace mlq {

namespace {

constexpr const char* kUsage =
    "usage: runner runs list [--where EXPR] [--order-by FIELD [asc|desc]] [--limit N]\n"
    "                        [--columns FIELD,...] [--task TASK] [--status STATUS]\n"
    "                        [--format table|csv|json]\n"
    "       runner runs show ID\n"
    "       runner runs compare ID ID...         (config differences and metrics side by side)\n"
    "       runner runs export [list options]    (CSV unless --format json)\n"
    "       runner runs tag ID KEY=VALUE...\n"
    "       runner runs delete ID [--yes]        (the run directory goes to <db folder>/trash)\n"
    "EXPR: comparisons (= != < <= > >=, like, in (...)) of metrics.KEY, params.KEY, tags.KEY,\n"
    "max|min|last(metrics.KEY), at(metrics.KEY, STEP), id, task, status, start_time, end_time,\n"
    "duration, git_commit, host, joined with and, or, not and parentheses. Example:\n"
    "  runner runs list --where \"task = 'transcription' and max(metrics.val_onset_f1) > 0.8\"\n"
    "      --order-by metrics.test_onset_f1 desc --columns params.trainer.optimizer.lr\n";

struct ListOptions {
  std::string task;
  std::string status;
  std::string where;
  std::string order_by;
  bool descending = true;
  std::vector<std::string> columns;
  int64_t limit = 0;
  std::string format = "table";
};

// "a,max(metrics.b),at(metrics.c, 10)" -> its fields: commas inside parentheses do not split.
std::vector<std::string> split_fields(const std::string& text) {
  std::vector<std::string> fields(1);
  int depth = 0;
  for (char c : text) {
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0)
      fields.emplace_back();
    else
      fields.back() += c;
  }
  for (auto& field : fields) field = trim(field);
  fields.erase(std::remove(fields.begin(), fields.end(), ""), fields.end());
  return fields;
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
    static const std::set<std::string> kOptions = {"--task",  "--status",   "--limit",  "--format",
                                                   "--where", "--order-by", "--columns"};
    if (!kOptions.count(name))
      throw UserError(
          fmt::format("runner runs list: unknown option '{}' (expected --where, --order-by, "
                      "--limit, --columns, --task, --status or --format)",
                      args[i]));
    if (!value) {
      if (i + 1 >= args.size())
        throw UserError(fmt::format("runner runs list: option {} needs a value", name));
      value = args[++i];
    }
    if (name == "--task") options.task = *value;
    if (name == "--where") options.where = *value;
    if (name == "--columns") options.columns = split_fields(*value);
    if (name == "--order-by") {
      options.order_by = *value;
      if (i + 1 < args.size() &&
          (to_lower(args[i + 1]) == "asc" || to_lower(args[i + 1]) == "desc"))
        options.descending = to_lower(args[++i]) == "desc";
    }
    if (name == "--status") {
      const std::string status = to_upper(*value);
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

RunQuery list_query(const ListOptions& options) {
  const double now = now_seconds();
  RunQuery query;
  query.limit = options.limit;
  query.descending = options.descending;
  if (!options.where.empty()) query.filter = compile_run_filter(options.where, now);
  auto also = [&](const std::string& sql, const std::string& value) {
    query.filter.sql = query.filter.sql.empty() ? sql : "(" + query.filter.sql + ") AND " + sql;
    query.filter.bindings.push_back(value);
  };
  if (!options.task.empty()) also("r.task = ?", options.task);
  if (!options.status.empty()) also("r.status = ?", options.status);
  if (!options.order_by.empty()) {
    query.order = compile_run_field(options.order_by, now, "o");
    query.order_summary = summary_column(options.order_by);
  }
  for (const std::string& column : options.columns)
    query.columns.push_back(
        compile_run_field(column, now, fmt::format("c{}_", query.columns.size())));
  return query;
}

std::string format_sql_value(const std::optional<SqlValue>& value, const char* none) {
  if (!value) return none;
  if (const auto* number = std::get_if<double>(&*value)) return format_value(*number);
  if (const auto* integer = std::get_if<int64_t>(&*value)) return std::to_string(*integer);
  return std::get<std::string>(*value);
}

std::string json_sql_value(const std::optional<SqlValue>& value) {
  if (!value) return "null";
  if (const auto* number = std::get_if<double>(&*value)) return json_number(*number);
  if (const auto* integer = std::get_if<int64_t>(&*value)) return std::to_string(*integer);
  return json_quote(std::get<std::string>(*value));
}

int list_runs(const std::vector<std::string>& args, const std::filesystem::path& db_path,
              std::ostream& out) {
  const ListOptions options = parse_list_options(args);
  const RunQuery query = list_query(options);  // checks the expressions before anything else
  if (!std::filesystem::exists(db_path)) {
    if (options.format == "json")
      out << "[]\n";
    else if (options.format == "table")
      out << "no runs yet (" << db_path.string() << ")\n";
    return 0;
  }
  Manifest manifest(db_path);
  manifest.mark_dead_runs();
  const std::vector<RunRow> rows = manifest.query_runs(query);
  // Without --columns: the runs' test_* and val_* metrics (last values).
  std::vector<std::map<std::string, double>> last;
  if (options.columns.empty())
    for (const RunRow& row : rows) last.push_back(manifest.last_metrics(row.run.id));
  const std::vector<std::string> metric_keys = summary_keys(last);

  if (options.format == "json") {
    out << "[";
    for (size_t r = 0; r < rows.size(); ++r) {
      const RunRecord& run = rows[r].run;
      out << (r ? ",\n " : "\n ") << "{\"id\": " << json_quote(run.id)
          << ", \"task\": " << json_quote(run.task) << ", \"status\": " << json_quote(run.status)
          << ", \"start_time\": " << json_number(run.start_time)
          << ", \"end_time\": " << (run.end_time > 0 ? json_number(run.end_time) : "null")
          << ", \"duration\": " << json_number(duration_seconds(run))
          << ", \"host\": " << json_quote(run.host) << ", \"pid\": " << run.pid
          << ", \"config_hash\": " << json_quote(run.config_hash)
          << ", \"run_dir\": " << json_quote(run.run_dir);
      if (options.columns.empty()) {
        out << ", \"metrics\": {";
        bool first = true;
        for (const auto& [key, value] : last[r]) {
          out << (first ? "" : ", ") << json_quote(key) << ": " << json_number(value);
          first = false;
        }
        out << "}";
      } else {
        out << ", \"columns\": {";
        for (size_t c = 0; c < options.columns.size(); ++c)
          out << (c ? ", " : "") << json_quote(options.columns[c]) << ": "
              << json_sql_value(rows[r].values[c]);
        out << "}";
      }
      out << "}";
    }
    out << (rows.empty() ? "]\n" : "\n]\n");
    return 0;
  }

  const std::vector<std::string>& extra = options.columns.empty() ? metric_keys : options.columns;
  auto extra_value = [&](size_t r, size_t c, const char* none) -> std::string {
    if (!options.columns.empty()) return format_sql_value(rows[r].values[c], none);
    auto it = last[r].find(metric_keys[c]);
    return it == last[r].end() ? none : format_value(it->second);
  };

  if (options.format == "csv") {
    out << "id,task,status,start_time,end_time,duration_s,host,pid,run_dir";
    for (const auto& key : extra) out << ',' << csv_field(key);
    out << '\n';
    for (size_t r = 0; r < rows.size(); ++r) {
      const RunRecord& run = rows[r].run;
      double duration = duration_seconds(run);
      out << csv_field(run.id) << ',' << csv_field(run.task) << ',' << run.status << ','
          << fmt::format("{:.3f}", run.start_time) << ','
          << (run.end_time > 0 ? fmt::format("{:.3f}", run.end_time) : "") << ','
          << (duration >= 0 ? fmt::format("{:.3f}", duration) : "") << ',' << csv_field(run.host)
          << ',' << run.pid << ',' << csv_field(run.run_dir);
      for (size_t c = 0; c < extra.size(); ++c) out << ',' << csv_field(extra_value(r, c, ""));
      out << '\n';
    }
    return 0;
  }

  if (rows.empty()) {
    const bool filtered =
        !options.where.empty() || !options.task.empty() || !options.status.empty();
    out << "no runs" << (filtered ? " match" : "") << " (" << db_path.string() << ")\n";
    return 0;
  }
  const size_t shown = options.columns.empty() ? std::min<size_t>(extra.size(), 3) : extra.size();
  std::vector<std::vector<std::string>> table;
  std::vector<std::string> header = {"ID", "TASK", "STATUS", "START", "DURATION"};
  header.insert(header.end(), extra.begin(), extra.begin() + static_cast<std::ptrdiff_t>(shown));
  table.push_back(header);
  for (size_t r = 0; r < rows.size(); ++r) {
    const RunRecord& run = rows[r].run;
    std::vector<std::string> line = {
        run.id, run.task, run.status, local_time(run.start_time),
        format_duration(duration_seconds(run), DurationStyle::Compact)};
    for (size_t c = 0; c < shown; ++c) line.push_back(extra_value(r, c, "-"));
    table.push_back(std::move(line));
  }
  print_table(out, table);
  return 0;
}

int show_run(const std::vector<std::string>& args, const std::filesystem::path& db_path,
             std::ostream& out) {
  if (args.size() != 2)
    throw UserError("runner runs show: expected exactly one run id (runner runs show ID)");
  auto opened = existing_manifest(db_path, args[1]);
  Manifest& manifest = *opened;
  manifest.mark_dead_runs();
  const RunRecord run = existing_run(manifest, args[1]);

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
int compare_runs(const std::vector<std::string>& args, const std::filesystem::path& db_path,
                 std::ostream& out) {
  if (args.size() < 3)
    throw UserError("runner runs compare: expected two or more run ids (runner runs compare A B)");
  auto manifest = existing_manifest(db_path, args[1]);
  std::vector<RunRecord> runs;
  for (size_t i = 1; i < args.size(); ++i) runs.push_back(existing_run(*manifest, args[i]));
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

int tag_run(const std::vector<std::string>& args, const std::filesystem::path& db_path,
            std::ostream& out) {
  if (args.size() < 3)
    throw UserError("runner runs tag: expected a run id and KEY=VALUE (runner runs tag ID k=v)");
  std::vector<std::pair<std::string, std::string>> tags;
  for (size_t i = 2; i < args.size(); ++i) {
    const size_t eq = args[i].find('=');
    if (eq == std::string::npos || eq == 0)
      throw UserError(fmt::format("runner runs tag: '{}' is not KEY=VALUE", args[i]));
    tags.emplace_back(args[i].substr(0, eq), args[i].substr(eq + 1));
  }
  auto manifest = existing_manifest(db_path, args[1]);
  const RunRecord run = existing_run(*manifest, args[1]);
  for (const auto& [key, value] : tags) {
    manifest->set_tag(run.id, key, value);
    out << "tagged " << run.id << ": " << key << "=" << value << "\n";
  }
  return 0;
}

// Moves the run directory into <db folder>/trash, then removes the run from the manifest.
int delete_run(const std::vector<std::string>& args, const std::filesystem::path& db_path,
               std::ostream& out) {
  namespace fs = std::filesystem;
  std::vector<std::string> ids;
  bool yes = false;
  for (size_t i = 1; i < args.size(); ++i) {
    if (args[i] == "--yes" || args[i] == "-y")
      yes = true;
    else
      ids.push_back(args[i]);
  }
  if (ids.size() != 1)
    throw UserError("runner runs delete: expected exactly one run id (runner runs delete ID)");
  auto manifest = existing_manifest(db_path, ids[0]);
  manifest->mark_dead_runs();
  const RunRecord run = existing_run(*manifest, ids[0]);
  if (run.status == kRunning)
    throw UserError(
        fmt::format("runner runs delete: run {} is still running; stop it first", run.id));
  if (!yes) {
    if (!isatty(STDIN_FILENO))
      throw UserError(fmt::format(
          "runner runs delete: not deleting run {} without --yes (no terminal to ask on)", run.id));
    out << "delete run " << run.id << " (" << run.task << ", " << run.status << ") and move "
        << (run.run_dir.empty() ? "nothing" : run.run_dir) << " to the trash? [y/N] " << std::flush;
    std::string answer;
    std::getline(std::cin, answer);
    if (to_lower(trim(answer)) != "y" && to_lower(trim(answer)) != "yes") {
      out << "kept run " << run.id << "\n";
      return 0;
    }
  }
  std::error_code error;
  fs::path moved;
  if (!run.run_dir.empty() && fs::exists(run.run_dir, error)) {
    const fs::path trash =
        (db_path.has_parent_path() ? db_path.parent_path() : fs::path(".")) / "trash";
    fs::create_directories(trash, error);
    moved = trash / fmt::format("{}-{}", fs::path(run.run_dir).filename().string(), run.id);
    fs::rename(run.run_dir, moved, error);
    if (error)
      throw UserError(fmt::format("runner runs delete: cannot move {} to {}: {}; nothing deleted",
                                  run.run_dir, moved.string(), error.message()));
  }
  manifest->delete_run(run.id);
  out << "deleted run " << run.id
      << (moved.empty() ? std::string(" (it had no run directory)")
                        : "; its directory is now " + moved.string())
      << "\n";
  return 0;
}

}  // namespace

int runs_command(const std::vector<std::string>& args, const std::filesystem::path& db_path,
                 std::ostream& out) {
  if (args.empty() || args[0] == "list") return list_runs(args, db_path, out);
  if (args[0] == "show") return show_run(args, db_path, out);
  if (args[0] == "compare") return compare_runs(args, db_path, out);
  if (args[0] == "tag") return tag_run(args, db_path, out);
  if (args[0] == "delete") return delete_run(args, db_path, out);
  if (args[0] == "export") {
    std::vector<std::string> list_args = args;
    const bool has_format = std::any_of(
        args.begin(), args.end(), [](const std::string& a) { return a.rfind("--format", 0) == 0; });
    if (!has_format) list_args.insert(list_args.end(), {"--format", "csv"});
    return list_runs(list_args, db_path, out);
  }
  if (args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    out << kUsage;
    return 0;
  }
  throw UserError(
      fmt::format("runner runs: unknown subcommand '{}' (expected list, show, compare, export, "
                  "tag or delete)",
                  args[0]));
}

int runs_command(const std::vector<std::string>& args, const std::filesystem::path& db_path) {
  return runs_command(args, db_path, std::cout);
}

}  // namespace mlq
