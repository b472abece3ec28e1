// runner runs copy --from SRC --to DST [--where EXPR], runner runs sync RUN_DIR: moving run
// records between manifests, and from a run directory into its manifest.
#include <fmt/format.h>
#include <unistd.h>

#include <toml++/toml.h>
#include <nlohmann/json.hpp>
#include <ostream>

#include "mlq/config/tree.hpp"
#include "mlq/tracking/manifest.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/files.hpp"
#include "mlq/util/progress.hpp"
#include "runs/runs_options.hpp"

namespace mlq::runs {
namespace fs = std::filesystem;

int copy_runs(const std::vector<std::string>& args, const std::string& default_db,
              std::ostream& out) {
  cxxopts::Options options = subcommand_options(
      "copy",
      "Copies runs with their params, metrics, tags and artifacts from one manifest to another "
      "(a SQLite file or a postgresql:// URL each). Runs already in the destination are left as "
      "they are, so copying twice adds nothing.");
  options.add_options()("from", "the source manifest (default: --db, MLQ_DB, outputs/runs.sqlite)",
                        cxxopts::value<std::string>())("to", "the destination manifest",
                                                       cxxopts::value<std::string>())(
      "where", "only the runs this expression selects (as runs list --where)",
      cxxopts::value<std::string>());
  const auto result = parse(options, args, out);
  if (!result) return 0;
  const std::string from = result->count("from") ? result->operator[]("from").as<std::string>()
                                                 : db_path(*result, default_db);
  if (!result->count("to"))
    throw UserError("runner runs copy: --to is missing (the manifest to copy the runs into)");
  const std::string to = (*result)["to"].as<std::string>();
  RunQuery query;
  if (result->count("where")) query.where = (*result)["where"].as<std::string>();
  check_run_query(query);
  if (!manifest_exists(from))
    throw UserError(fmt::format("runner runs copy: no manifest at {}", from));
  if (fs::path(from).lexically_normal() == fs::path(to).lexically_normal())
    throw UserError(
        fmt::format("runner runs copy: --from and --to are the same manifest ({})", from));
  const Manifest source(from);
  Manifest destination(to);
  query.descending = false;  // oldest first
  const std::vector<RunRow> rows = source.query_runs(query);
  size_t copied = 0;
  ProgressLine progress;
  for (size_t i = 0; i < rows.size(); ++i) {
    if (destination.import_run(source.history(rows[i].run))) ++copied;
    if (rows.size() >= 100)
      progress.update("runs", static_cast<int64_t>(i + 1), static_cast<int64_t>(rows.size()),
                      "runs");
  }
  if (rows.size() >= 100) progress.finish();
  out << fmt::format("copied {} run{} from {} to {}", copied, copied == 1 ? "" : "s",
                     source.location(), destination.location());
  if (copied < rows.size()) out << fmt::format(" ({} already there)", rows.size() - copied);
  out << "\n";
  return 0;
}

namespace {

// What a run directory says of its run: config.toml, and manifest.json once it ended.
struct RunDirectory {
  fs::path dir;
  Config config;
  std::string config_toml;
  nlohmann::json summary;  // null until the run ended
  std::string id;
};

RunDirectory read_run_directory(const fs::path& given) {
  RunDirectory run;
  std::error_code ec;
  run.dir = fs::absolute(given, ec);
  const fs::path config_file = run.dir / "config.toml";
  if (!fs::is_regular_file(config_file))
    throw UserError(fmt::format("runner runs sync: {} is not a run directory (no config.toml)",
                                given.string()));
  run.config_toml = read_file_bytes(config_file);
  try {
    run.config = Config(toml::parse(run.config_toml, config_file.string()), {});
  } catch (const toml::parse_error& e) {
    throw UserError(fmt::format("{}: {}", config_file.string(), e.description()));
  }
  if (fs::exists(run.dir / "manifest.json")) {
    try {
      run.summary = nlohmann::json::parse(read_file_bytes(run.dir / "manifest.json"));
    } catch (const nlohmann::json::exception&) {
      throw UserError(fmt::format("{}: not valid JSON", (run.dir / "manifest.json").string()));
    }
  }
  const std::string name = run.dir.filename().string();  // <HH-MM-SS>-<id>
  run.id = run.summary.is_object() ? run.summary.value("id", "") : "";
  if (run.id.empty() && name.rfind('-') != std::string::npos)
    run.id = name.substr(name.rfind('-') + 1);
  if (run.id.empty())
    throw UserError(fmt::format("runner runs sync: cannot tell the run id of {}", given.string()));
  return run;
}

// The run's record when the manifest has none: what the directory tells.
RunRecord record_of(const RunDirectory& run, const std::vector<MetricPoint>& points) {
  RunRecord record;
  record.id = run.id;
  record.task = run.config.get_string("task", "");
  record.status = kKilled;
  // Its first and last points tell when it ran.
  record.start_time = points.empty() ? now_seconds() : points.front().time;
  for (const MetricPoint& p : points) {
    record.start_time = std::min(record.start_time, p.time);
    record.heartbeat = std::max(record.heartbeat, p.time);
  }
  record.host = host_name();
  record.run_dir = run.dir.string();
  record.config_hash = config_hash(run.config);
  record.config_toml = run.config_toml;
  return record;
}

}  // namespace

int sync_run(const std::vector<std::string>& args, const std::string& default_db,
             std::ostream& out) {
  cxxopts::Options options = subcommand_options(
      "sync",
      "Brings the manifest up to date from a run directory (after its manifest's server was away "
      "when the run ended): the run's record, its metrics from metrics.csv, its final status and "
      "its artifacts. Running it again changes nothing.");
  const auto parsed = parse_words(options, "RUN_DIR", args, default_db, out);
  if (!parsed) return 0;
  if (parsed->words.size() != 1)
    throw UserError("runner runs sync: expected one run directory (runner runs sync RUN_DIR)");
  const RunDirectory run = read_run_directory(parsed->words[0]);
  const std::string location =
      parsed->result.count("db") ? parsed->db : manifest_location(run.config);
  const std::vector<MetricPoint> points = read_metrics_csv(run.dir / "metrics.csv");
  Manifest manifest(location);
  std::optional<RunRecord> record = manifest.find_run(run.id);
  if (!record || record->id != run.id) {
    manifest.create_run(record_of(run, points), run.config.flatten());
    record = manifest.find_run(run.id);
  }
  manifest.replace_metrics(run.id, points);
  std::string status = record->status;
  if (run.summary.is_object()) {
    status = run.summary.value("status", status);
    if (status != record->status)
      manifest.set_status(run.id, status, run.summary.value("error", ""));
    const std::string model = run.summary.value("model_path", "");
    if (!model.empty()) manifest.set_best_checkpoint(run.id, model);
  }
  manifest.set_artifacts(run.id, run_artifacts(run.dir));
  out << fmt::format("synced run {} into {}: {} metric points, status {}\n", run.id,
                     manifest.location(), points.size(), status);
  return 0;
}

}  // namespace mlq::runs
