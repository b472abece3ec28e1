#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlq/tracking/query.hpp"

struct sqlite3;

namespace mlq {

// Run statuses as stored in runs.status.
inline constexpr const char* kRunning = "RUNNING";
inline constexpr const char* kFinished = "FINISHED";
inline constexpr const char* kFailed = "FAILED";
inline constexpr const char* kKilled = "KILLED";

struct RunRecord {
  std::string id;
  std::string task;
  std::string status = kRunning;
  double start_time = 0;  // seconds since the Unix epoch
  double end_time = 0;    // 0 while running
  double heartbeat = 0;
  std::string host;
  int64_t pid = 0;
  std::string git_commit;
  bool git_dirty = false;
  std::string plugin_versions;  // JSON object {"plugin": "version", ...}
  std::string run_dir;
  std::string best_checkpoint;
  std::string config_hash;
  std::string config_toml;  // the resolved config
  std::string error;        // the failure message of a FAILED run
};

// `runner runs list`'s query (mlq/run_query.hpp compiles its parts).
struct RunQuery {
  SqlFragment filter;                // empty: every run
  std::vector<SqlFragment> columns;  // values to fetch for each run
  SqlFragment order;                 // empty: newest first; runs without a value come last
  // Set when `order` is a metric summary value: the runs are then taken in the order of that
  // column's index, so a LIMIT stops early (ties between equal values go by run id).
  std::optional<SummaryColumn> order_summary;
  bool descending = true;
  int64_t limit = 0;  // 0: no limit
};

struct RunRow {
  RunRecord run;
  std::vector<std::optional<SqlValue>> values;  // one per RunQuery::columns; nullopt: none
};

struct MetricPoint {
  std::string key;
  int64_t step = 0;
  double value = 0;
  double time = 0;
};

struct Artifact {
  std::string path;
  std::string kind;
  std::string checksum;
};

// The SQLite manifest of every run (schema in docs/manifest.md). WAL mode and a busy timeout, so
// several processes may write at once; every multi-row write is one transaction. Errors throw
// UserError naming the database file.
class Manifest {
 public:
  explicit Manifest(const std::filesystem::path& db_path);
  ~Manifest();
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;

  const std::filesystem::path& path() const { return path_; }

  // Inserts the run and its flattened config (dotted key -> TOML literal) as params.
  void create_run(const RunRecord& run,
                  const std::vector<std::pair<std::string, std::string>>& params);
  // Sets status (and end_time when the status is final; error text for FAILED).
  void set_status(std::string_view run_id, std::string_view status, std::string_view error = "");
  // Claims a KILLED or FAILED run for resuming: back to RUNNING with this pid, atomically.
  // False when the run is not resumable (running, finished, or claimed by another process);
  // UserError when there is no such run.
  bool reopen_run(std::string_view run_id, int64_t pid);
  void heartbeat(std::string_view run_id);
  void set_best_checkpoint(std::string_view run_id, std::string_view path);
  void log_metrics(std::string_view run_id, const std::vector<MetricPoint>& points);
  // Drops metric points logged after `step` (a resumed run recomputes them).
  void truncate_metrics_after(std::string_view run_id, int64_t step);
  void set_tag(std::string_view run_id, std::string_view key, std::string_view value);
  // Removes the run and everything recorded about it (params, metrics, tags, artifacts).
  void delete_run(std::string_view run_id);
  void add_artifact(std::string_view run_id, const Artifact& artifact);
  // Replaces the run's artifacts with these, in one transaction.
  void set_artifacts(std::string_view run_id, const std::vector<Artifact>& artifacts);

  // A run by full id or unique prefix; nullopt if none; UserError if the prefix is ambiguous.
  std::optional<RunRecord> find_run(std::string_view id_or_prefix) const;
  // Newest first.
  std::vector<RunRecord> list_runs(std::string_view task = "", std::string_view status = "",
                                   int64_t limit = 0) const;
  std::vector<RunRow> query_runs(const RunQuery& query) const;
  std::vector<MetricPoint> metrics(std::string_view run_id, std::string_view key = "") const;
  std::map<std::string, std::string> params(std::string_view run_id) const;
  std::map<std::string, std::string> tags(std::string_view run_id) const;
  std::vector<Artifact> artifacts(std::string_view run_id) const;
  // The last value of every metric key of a run.
  std::map<std::string, double> last_metrics(std::string_view run_id) const;

  // RUNNING runs of this host whose process is gone, or of any host whose heartbeat is older
  // than `stale_seconds`, become KILLED. Returns how many.
  int mark_dead_runs(double stale_seconds = 600);
  // The newest KILLED or FAILED run of `task` with this config hash (resume=auto).
  std::optional<RunRecord> latest_unfinished(std::string_view task,
                                             std::string_view config_hash) const;

  sqlite3* handle() const { return db_; }

 private:
  std::filesystem::path path_;
  sqlite3* db_ = nullptr;
};

// This machine's host name.
std::string host_name();
// Seconds since the Unix epoch, with sub-second precision.
double now_seconds();

}  // namespace mlq
