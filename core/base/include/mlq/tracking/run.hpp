#pragma once
#include <filesystem>
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

  // Final status; writes manifest.json (the run's summary: status, metrics, config, best model)
  // and registers every file of the run directory as an artifact (register_artifacts).
  void finish(const std::string& status, const std::string& error = "");
  // The manifest's artifacts of this run become the files now in its directory: path relative to
  // it, kind (artifact_kind) and "xxh3:<hex>" checksum (file_checksum) (none for run.log, still
  // appended to).
  void register_artifacts() const;

 private:
  Run(Manifest& manifest, std::string id, std::filesystem::path dir);
  Manifest* manifest_;
  std::string id_;
  std::filesystem::path dir_;
};

// The kind of a run directory's file: checkpoint, tensorboard, image, audio, midi, metrics, log,
// config, summary, or other.
std::string artifact_kind(const std::filesystem::path& relative_path);

// Where runs go: config key `output_dir` (default "outputs").
std::filesystem::path output_root(const Config& config);
// The manifest file: config key `manifest.db`, else $MLQ_DB, else <output_root>/runs.sqlite.
std::filesystem::path manifest_path(const Config& config);
// Same without a config (runs list/show): --db, else $MLQ_DB, else outputs/runs.sqlite.
std::filesystem::path manifest_path(const std::string& db_flag);
// The identity of an experiment: hash of the resolved config without trainer.resume and tags.
std::string config_hash(const Config& config);

}  // namespace mlq
