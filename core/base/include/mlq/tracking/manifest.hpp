#pragma once
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "mlq/tracking/query.hpp"
#include "mlq/util/error.hpp"

namespace mlq {

namespace db {
class Database;
}

// The manifest's server cannot be reached (refused, gone, or lost in the middle of a
// transaction): what failed can be done again once it is back.
class ManifestConnectionLost : public UserError {
 public:
  using UserError::UserError;
};

// Run statuses as stored in runs.status.
inline constexpr const char* kRunning = "RUNNING";
inline constexpr const char* kFinished = "FINISHED";
inline constexpr const char* kFailed = "FAILED";
inline constexpr const char* kKilled = "KILLED";
// A sweep trial that successive halving stopped early (its run's status too).
inline constexpr const char* kPruned = "PRUNED";
// A sweep trial that waits for a worker.
inline constexpr const char* kPending = "PENDING";

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

// A sweep (runner sweep): its search and its trials' bookkeeping. Statuses RUNNING, FINISHED,
// FAILED (max_failures reached).
struct SweepRecord {
  std::string id;
  std::string task;
  std::string status = kRunning;
  double start_time = 0;
  double end_time = 0;
  std::string strategy;   // grid, random, tpe
  std::string space;      // JSON: the dimensions as written
  std::string objective;  // a metric key
  std::string direction;  // min or max
  int64_t trials = 0;     // the budget
  std::string settings;   // JSON: how to run a trial and the failure and pruning policies
  std::string error;
};

// One trial: PENDING, RUNNING (claimed by `worker`), FINISHED, PRUNED or FAILED (retries spent).
struct SweepTrial {
  std::string sweep_id;
  int64_t number = 0;
  std::vector<std::string> params;  // its overrides, key=value
  std::string status = kPending;
  int64_t attempts = 0;
  std::string run_id;  // the run of its latest attempt
  std::string worker;  // host:pid
  std::optional<double> objective;
  std::string error;
};

// `runner runs list`'s query, in the language of mlq/tracking/query.hpp.
struct RunQuery {
  std::string where;                 // empty: every run
  std::vector<std::string> columns;  // FIELDs to fetch for each run
  std::string order_by;              // a FIELD; empty: newest first; runs without one come last
  bool descending = true;
  int64_t limit = 0;  // 0: no limit
  double now = 0;     // ends the duration of running runs; 0: now
  // A metric order walks that metric's index (a LIMIT stops early); off only to test that both
  // plans agree.
  bool use_summary_index = true;
};
// Compiles the query's expressions: a malformed one is a UserError before anything is opened.
void check_run_query(const RunQuery& query);

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

// Everything a manifest records about one run (what `runner runs copy` moves).
struct RunHistory {
  RunRecord run;
  std::map<std::string, std::string> params;  // dotted key -> TOML literal
  std::vector<MetricPoint> metrics;           // in the order they were logged
  std::map<std::string, std::string> tags;
  std::vector<Artifact> artifacts;
};

// The manifest of every run (schema in docs/manifest.md): a SQLite file (WAL mode and a busy
// timeout, so several processes of one machine may write at once) or, for a location
// "postgresql://...", a PostgreSQL database that several machines share. Every multi-row write
// is one transaction. Errors throw UserError naming the file or URL (never its password);
// ManifestConnectionLost when a server cannot be reached.
class Manifest {
 public:
  explicit Manifest(const std::string& location);
  explicit Manifest(const char* location) : Manifest(std::string(location)) {}
  explicit Manifest(const std::filesystem::path& db_path) : Manifest(db_path.string()) {}
  ~Manifest();
  Manifest(const Manifest&) = delete;
  Manifest& operator=(const Manifest&) = delete;

  // The file or URL, for messages.
  const std::string& location() const;

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
  // Replaces the run's metric history (and its summaries) with these points, in one transaction.
  void replace_metrics(std::string_view run_id, const std::vector<MetricPoint>& points);
  // Records a run with its whole history in one transaction; false (and nothing written) when a
  // run with its id is already there.
  bool import_run(const RunHistory& history);

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
  RunHistory history(const RunRecord& run) const;

  // RUNNING runs of this host whose process is gone, or of any host whose heartbeat is older
  // than `stale_seconds`, become KILLED. Returns how many.
  int mark_dead_runs(double stale_seconds = 600);
  // The newest KILLED or FAILED run of `task` with this config hash (resume=auto).
  std::optional<RunRecord> latest_unfinished(std::string_view task,
                                             std::string_view config_hash) const;

  // Sweeps (manifest_sweeps.cpp).
  void create_sweep(const SweepRecord& sweep);
  // By full id or unique prefix; nullopt if none; UserError if the prefix is ambiguous.
  std::optional<SweepRecord> find_sweep(std::string_view id_or_prefix) const;
  std::vector<SweepRecord> list_sweeps() const;  // newest first
  void set_sweep_status(std::string_view sweep_id, std::string_view status,
                        std::string_view error = "");
  std::vector<SweepTrial> sweep_trials(std::string_view sweep_id) const;  // by number
  // Adds a new trial (claimed by its worker when RUNNING); false when the number is taken.
  bool add_trial(const SweepTrial& trial);
  // Claims the lowest-numbered PENDING trial for `worker` in one statement, so two workers never
  // get the same one; nullopt when none is pending.
  std::optional<SweepTrial> claim_trial(std::string_view sweep_id, std::string_view worker);
  // Writes the trial's status, attempts, run, worker, objective and error.
  void update_trial(const SweepTrial& trial);
  // Successive halving: records trial `number`'s value at `rung` (once) and returns the values of
  // every trial that reached it.
  std::vector<double> report_rung(std::string_view sweep_id, int64_t rung, int64_t number,
                                  double value);

  // The database itself (tests and tools that need raw SQL).
  db::Database& database() const { return *db_; }

 private:
  std::unique_ptr<db::Database> db_;
};

// Whether `location` names a database server (postgresql://...) rather than a SQLite file.
bool is_manifest_server(const std::string& location);
// Whether the manifest at `location` may hold runs: a server's may; a file must exist.
bool manifest_exists(const std::string& location);

// This machine's host name.
std::string host_name();
// Seconds since the Unix epoch, with sub-second precision.
double now_seconds();

}  // namespace mlq
