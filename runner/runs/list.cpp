// runner runs list|export: runs selected by --where/--task/--status, ordered and limited, as a
// table, CSV or JSON.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <ostream>
#include <set>
#include <variant>

#include "mlq/audio/csv.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/metric_direction.hpp"
#include "mlq/tracking/query.hpp"
#include "mlq/util/duration.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/text.hpp"
#include "run_format.hpp"
#include "runs/runs_options.hpp"

namespace mlq::runs {
namespace {

// The metric key of a FIELD (metrics.KEY, max(metrics.KEY), ...), else the field itself.
std::string metric_of(const std::string& field) {
  const size_t at = field.find("metrics.");
  if (at == std::string::npos) return field;
  const size_t end = field.find_first_of("), ", at);
  return field.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
}

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

std::optional<ListOptions> parse_list_options(const std::string& name,
                                              const std::vector<std::string>& args,
                                              const std::string& default_format, std::string& db,
                                              std::ostream& out) {
  cxxopts::Options options = subcommand_options(name, "Runs in the manifest, newest first.");
  options.add_options()("where", "filter expression (runner runs --help)",
                        cxxopts::value<std::string>())(
      "order-by",
      "FIELD [asc|desc] (default: newest first; a metric best first: a loss ascending, an accuracy "
      "descending)",
      cxxopts::value<std::string>())("limit", "at most N runs", cxxopts::value<std::string>())(
      "columns", "FIELD,... to show instead of the test_/val_ metrics",
      cxxopts::value<std::string>())("task", "only runs of TASK", cxxopts::value<std::string>())(
      "status", "only runs in STATUS (RUNNING, FINISHED, FAILED, KILLED, PRUNED)",
      cxxopts::value<std::string>())("format", "table, csv or json",
                                     cxxopts::value<std::string>()->default_value(default_format))(
      "direction", "asc or desc after --order-by", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"direction"});
  options.positional_help("");
  const auto result = parse(options, args, out);
  if (!result) return std::nullopt;
  db = db_path(*result, db);
  const std::string command = "runner runs " + name;
  ListOptions list;
  auto value = [&](const char* key) {
    return result->count(key) ? (*result)[key].as<std::string>() : std::string();
  };
  list.task = value("task");
  list.where = value("where");
  list.order_by = value("order-by");
  list.columns = split_fields(value("columns"));
  const std::vector<std::string> direction = positionals(*result, "direction");
  if (!direction.empty()) {
    const std::string word = to_lower(direction[0]);
    if (direction.size() > 1 || list.order_by.empty() || (word != "asc" && word != "desc"))
      throw UserError(fmt::format("{}: unexpected argument '{}' (see {} --help)", command,
                                  direction[list.order_by.empty() ? 0 : direction.size() - 1],
                                  command));
    list.descending = word == "desc";
  } else if (!list.order_by.empty()) {  // best first: a loss ascending, an accuracy descending
    list.descending = !lower_is_better(metric_of(list.order_by));
  }
  if (result->count("status")) {
    list.status = to_upper(value("status"));
    if (list.status != kRunning && list.status != kFinished && list.status != kFailed &&
        list.status != kKilled && list.status != kPruned)
      throw UserError(
          fmt::format("{}: --status '{}' is not one of RUNNING, FINISHED, FAILED, KILLED, PRUNED",
                      command, value("status")));
  }
  if (result->count("limit")) {
    const std::string text = value("limit");
    const std::optional<long long> limit = parse_integer(text);
    if (!limit || *limit <= 0)
      throw UserError(fmt::format("{}: --limit '{}' is not a positive integer", command, text));
    list.limit = *limit;
  }
  list.format = (*result)["format"].as<std::string>();
  if (list.format != "table" && list.format != "csv" && list.format != "json")
    throw UserError(
        fmt::format("{}: --format '{}' is not one of table, csv, json", command, list.format));
  return list;
}

// A text literal of the query language ('it''s').
std::string quoted(const std::string& text) {
  std::string out = "'";
  for (char c : text) out += c == '\'' ? std::string("''") : std::string(1, c);
  return out + "'";
}

RunQuery list_query(const ListOptions& options) {
  RunQuery query;
  query.now = now_seconds();
  query.limit = options.limit;
  query.descending = options.descending;
  query.where = options.where;
  query.order_by = options.order_by;
  query.columns = options.columns;
  check_run_query(query);  // errors point into what the user wrote
  auto also = [&](const std::string& condition) {
    query.where = query.where.empty() ? condition : "(" + query.where + ") and " + condition;
  };
  if (!options.task.empty()) also("task = " + quoted(options.task));
  if (!options.status.empty()) also("status = " + quoted(options.status));
  return query;
}

std::string format_sql_value(const std::optional<SqlValue>& value, const char* none) {
  if (!value) return none;
  if (const auto* number = std::get_if<double>(&*value)) return format_value(*number);
  if (const auto* integer = std::get_if<int64_t>(&*value)) return std::to_string(*integer);
  return std::get<std::string>(*value);
}

nlohmann::ordered_json json_sql_value(const std::optional<SqlValue>& value) {
  if (!value) return nullptr;
  if (const auto* number = std::get_if<double>(&*value)) return *number;
  if (const auto* integer = std::get_if<int64_t>(&*value)) return *integer;
  return std::get<std::string>(*value);
}

// A JSON number, or null for a time that is not known (0: not yet).
nlohmann::ordered_json known(double seconds) {
  return seconds > 0 ? nlohmann::ordered_json(seconds) : nlohmann::ordered_json();
}

void print_json(std::ostream& out, const std::vector<RunRow>& rows, const ListOptions& options,
                const std::vector<std::map<std::string, double>>& last) {
  nlohmann::ordered_json runs = nlohmann::ordered_json::array();
  for (size_t r = 0; r < rows.size(); ++r) {
    const RunRecord& run = rows[r].run;
    const double duration = duration_seconds(run);
    nlohmann::ordered_json item{
        {"id", run.id},
        {"task", run.task},
        {"status", run.status},
        {"start_time", run.start_time},
        {"end_time", known(run.end_time)},
        {"duration", duration >= 0 ? nlohmann::ordered_json(duration) : nlohmann::ordered_json()},
        {"host", run.host},
        {"pid", run.pid},
        {"config_hash", run.config_hash},
        {"run_dir", run.run_dir}};
    if (options.columns.empty()) {
      item["metrics"] = nlohmann::ordered_json::object();
      for (const auto& [key, value] : last[r]) item["metrics"][key] = value;
    } else {
      item["columns"] = nlohmann::ordered_json::object();
      for (size_t c = 0; c < options.columns.size(); ++c)
        item["columns"][options.columns[c]] = json_sql_value(rows[r].values[c]);
    }
    runs.push_back(std::move(item));
  }
  out << runs.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

int list(const std::string& name, const std::vector<std::string>& args,
         const std::string& default_db, std::ostream& out, const std::string& default_format) {
  std::string db = default_db;
  const auto parsed = parse_list_options(name, args, default_format, db, out);
  if (!parsed) return 0;
  const ListOptions& options = *parsed;
  const RunQuery query = list_query(options);  // checks the expressions before anything else
  if (!manifest_exists(db)) {
    if (options.format == "json")
      out << "[]\n";
    else if (options.format == "table")
      out << "no runs yet (" << db << ")\n";
    return 0;
  }
  Manifest manifest(db);
  manifest.mark_dead_runs();
  const std::vector<RunRow> rows = manifest.query_runs(query);
  // Without --columns: the runs' test_* and val_* metrics (last values).
  std::vector<std::map<std::string, double>> last;
  if (options.columns.empty())
    for (const RunRow& row : rows) last.push_back(manifest.last_metrics(row.run.id));
  const std::vector<std::string> metric_keys = summary_keys(last);

  if (options.format == "json") {
    print_json(out, rows, options, last);
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
    out << "no runs" << (filtered ? " match" : "") << " (" << manifest.location() << ")\n";
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

}  // namespace

int list_runs(const std::vector<std::string>& args, const std::string& db_path, std::ostream& out) {
  return list("list", args, db_path, out, "table");
}

int export_runs(const std::vector<std::string>& args, const std::string& db_path,
                std::ostream& out) {
  return list("export", args, db_path, out, "csv");
}

}  // namespace mlq::runs
