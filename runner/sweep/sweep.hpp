#pragma once
// runner sweep: what its files share. A sweep is a manifest record (mlq/tracking/manifest.hpp)
// whose settings say how to compose and run each trial; workers, in this process or others (on
// this machine or, sharing the manifest, elsewhere), claim trials from it until none is left.
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "mlq/sweep/space.hpp"
#include "mlq/tracking/manifest.hpp"

namespace mlq::sweep {

// How every trial of a sweep is run and judged (stored as the sweep's settings JSON).
struct Settings {
  std::filesystem::path config_file;
  std::string task;                    // --task, or empty
  std::vector<std::string> overrides;  // the plain overrides every trial gets
  std::vector<std::filesystem::path> plugin_dirs;
  uint64_t seed = 0;
  int64_t retries = 0;       // a failed trial runs again up to this many times
  int64_t max_failures = 0;  // the sweep stops after this many failed trials; 0: never
  int64_t min_steps = 0;     // pruning: the first rung (0: no pruning)
  int64_t eta = 3;           // pruning: the reduction factor
  std::string manifest;      // where the sweep is recorded
};

std::string settings_json(const Settings& settings);
Settings parse_settings(const std::string& json);
SearchSpace space_of(const SweepRecord& sweep);
std::string space_json(const SearchSpace& space);

// Runs trials of `sweep_id` until none is left to claim or propose (or the sweep failed):
// returns 0, or 130 when interrupted. `threads`: trainer.threads for each trial (0: as
// configured).
int work(const std::string& manifest, const std::string& sweep_id, int64_t threads);

// The trial's objective from its run: the best value (in the sweep's direction) the run logged.
std::optional<double> run_objective(const Manifest& manifest, const std::string& run_id,
                                    const SweepRecord& sweep);

// --launcher slurm: an array job of `tasks` workers.
struct SlurmOptions {
  int64_t tasks = 1;
  std::string partition;
  std::string time;
  int64_t gpus_per_task = 0;
  std::vector<std::string> extra_lines;  // more #SBATCH lines ("--mem=8G" or "#SBATCH ...")
  bool wait = false;                     // return once the job has left the queue
};
std::string slurm_script(const SlurmOptions& options, const std::string& manifest,
                         const std::string& sweep_id, const std::filesystem::path& folder);
// Writes <folder>/sweep.sbatch and submits it (and waits for the job to end when asked); 0.
int submit_to_slurm(const SlurmOptions& options, const std::string& manifest,
                    const std::string& sweep_id, const std::filesystem::path& folder);

// runner report --sweep ID: one self-contained HTML page (sweep_report.cpp).
std::string html_sweep_report(const Manifest& manifest, const SweepRecord& sweep);

// runner sweep list / show ID.
int list_sweeps(const std::string& manifest, std::ostream& out);
int show_sweep(const std::string& manifest, const std::string& id, std::ostream& out);

}  // namespace mlq::sweep
