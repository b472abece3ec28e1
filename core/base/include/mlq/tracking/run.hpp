#pragma once
#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"
#include "mlq/tracking/manifest.hpp"

namespace mlq {

// One run: its directory and its manifest row. Layout of the directory:
//   outputs/<task>/<YYYY-MM-DD>/<HH-MM-SS>-<id>/{config.toml, overrides.txt, run.log,
//   checkpoints/, metrics.csv, manifest.json, tb/ (TensorBoard), examples/ (test examples)}
class Run {
 public:
  // A new run: creates the directory, writes config.toml and overrides.txt, inserts the
  // manifest row (RUNNING) with the flattened config as params.
  static Run create(Manifest& manifest, const Config& config,
                    const std::vector<std::string>& overrides, const std::string& plugin_versions);
  // Continues a KILLED or FAILED run (resume): same id and directory, status back to RUNNING.
  // nullopt when another process claimed it first.
  static std::optional<Run> reopen(Manifest& manifest, const RunRecord& record);

  const std::string& id() const { return id_; }
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path checkpoints_dir() const { return dir_ / "checkpoints"; }
  Manifest& manifest() const { return *manifest_; }

  // A write of the run to its manifest. When the manifest's server cannot be reached
  // (ManifestConnectionLost), the run goes on: the write waits in memory, in order, and is tried
  // again with backoff (1 s, doubling to 60 s) at the next one. Each write should be one
  // transaction, so that trying it again does it once.
  void record(std::function<void(Manifest&)> write);
  // How many writes wait for the manifest's server.
  size_t waiting_writes() const { return waiting_.size(); }
  void set_best_checkpoint(const std::string& path);
  const std::string& best_checkpoint() const { return best_checkpoint_; }

  // Final status; writes manifest.json (the run's summary: status, metrics, config, best model)
  // and registers every file of the run directory as an artifact (register_artifacts). When the
  // server is still away, the summary comes from the run directory, and `runner runs sync DIR`
  // brings the manifest up to date later.
  void finish(const std::string& status, const std::string& error = "");
  // The manifest's artifacts of this run become the files now in its directory (run_artifacts).
  void register_artifacts();

 private:
  Run(Manifest& manifest, std::string id, std::filesystem::path dir, std::string task,
      std::string config_toml, std::string best_checkpoint);
  // Does the waiting writes, unless the next try is not due (`now` forces it).
  void write_waiting(bool now);

  Manifest* manifest_;
  std::string id_;
  std::filesystem::path dir_;
  std::string task_;
  std::string config_toml_;
  std::string best_checkpoint_;
  std::deque<std::function<void(Manifest&)>> waiting_;
  std::chrono::steady_clock::time_point retry_at_{};
  std::chrono::seconds retry_delay_{0};  // 0 while the server answers
};

// The files of a run directory as artifacts: path relative to it, kind (artifact_kind) and
// "xxh3:<hex>" checksum (file_checksum) (none for run.log, still appended to), sorted by path.
std::vector<Artifact> run_artifacts(const std::filesystem::path& dir);
// The points of a run directory's metrics.csv (step,key,value,time), in file order.
std::vector<MetricPoint> read_metrics_csv(const std::filesystem::path& file);

// The kind of a run directory's file: checkpoint, tensorboard, image, audio, midi, metrics, log,
// config, summary, or other.
std::string artifact_kind(const std::filesystem::path& relative_path);

// Where runs go: config key `output_dir` (default "outputs").
std::filesystem::path output_root(const Config& config);
// The manifest (a SQLite file or a postgresql:// URL): config key `manifest.db`, else $MLQ_DB,
// else <output_root>/runs.sqlite.
std::string manifest_location(const Config& config);
// Same without a config (runs list/show): --db, else $MLQ_DB, else outputs/runs.sqlite.
std::string manifest_location(const std::string& db_flag);
// Where `runner runs delete` moves a run directory: beside the manifest file, or for a server
// manifest beside the run's task folder (<output_dir>/trash).
std::filesystem::path trash_folder(const std::string& manifest, const RunRecord& run);
// The identity of an experiment: hash of the resolved config without trainer.resume and tags.
std::string config_hash(const Config& config);

}  // namespace mlq
