// A sweep worker: claims a pending trial or proposes the next one, runs it in this process,
// records how it went, and goes on until the sweep has nothing left for it.
#include <fmt/format.h>
#include <unistd.h>

#include <cmath>
#include <nlohmann/json.hpp>

#include "mlq/config/compose.hpp"
#include "mlq/launch/distributed_env.hpp"
#include "mlq/notify/settings.hpp"
#include "mlq/sweep/strategy.hpp"
#include "mlq/tracking/run.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/log.hpp"
#include "sweep/sweep.hpp"
#include "train/training.hpp"

namespace mlq::sweep {
namespace {

std::string worker_name() {
  return fmt::format("{}:{}", host_name(), getpid());
}

// The values of a trial's dimensions, from its overrides.
std::vector<std::string> values_of(const SweepTrial& trial, const SearchSpace& space) {
  std::vector<std::string> values;
  for (const Dimension& d : space.dimensions) {
    std::string value;
    for (const std::string& o : trial.params)
      if (o.rfind(d.key + "=", 0) == 0) value = o.substr(d.key.size() + 1);
    values.push_back(value);
  }
  return values;
}

// The next trial to run, claimed for this worker: a pending one, else a new one from the
// strategy; nullopt when the budget is spent.
std::optional<SweepTrial> next_trial(Manifest& manifest, const SweepRecord& sweep,
                                     const SearchStrategy& strategy, const SearchSpace& space) {
  const std::string worker = worker_name();
  for (;;) {
    if (auto claimed = manifest.claim_trial(sweep.id, worker)) return claimed;
    const std::vector<SweepTrial> trials = manifest.sweep_trials(sweep.id);
    const auto number = static_cast<int64_t>(trials.size());
    if (number >= sweep.trials) return std::nullopt;
    std::vector<TrialPoint> history;
    for (const SweepTrial& t : trials)
      history.push_back({t.number, values_of(t, space), t.objective});
    const auto values = strategy.propose(number, history);
    if (!values) return std::nullopt;
    SweepTrial trial;
    trial.sweep_id = sweep.id;
    trial.number = number;
    for (size_t i = 0; i < space.dimensions.size(); ++i)
      trial.params.push_back(space.dimensions[i].override_for((*values)[i]));
    trial.status = kRunning;
    trial.worker = worker;
    if (manifest.add_trial(trial)) return trial;  // else another worker took that number
  }
}

// The overrides of a trial's run: the sweep's, the trial's values, what the trainer needs to
// know of the sweep, and a resume of an earlier attempt that was interrupted.
std::vector<std::string> trial_overrides(const SweepRecord& sweep, const Settings& settings,
                                         const SweepTrial& trial, int64_t threads) {
  std::vector<std::string> overrides = settings.overrides;
  overrides.insert(overrides.end(), trial.params.begin(), trial.params.end());
  overrides.push_back("++sweep.id=\"" + sweep.id + "\"");
  overrides.push_back(fmt::format("++sweep.trial={}", trial.number));
  overrides.push_back("++sweep.objective=\"" + sweep.objective + "\"");
  overrides.push_back("++sweep.direction=\"" + sweep.direction + "\"");
  if (settings.min_steps > 0) {
    overrides.push_back(fmt::format("++sweep.pruning.min_steps={}", settings.min_steps));
    overrides.push_back(fmt::format("++sweep.pruning.eta={}", settings.eta));
  }
  overrides.push_back("++manifest.db=\"" + settings.manifest + "\"");
  overrides.push_back("trainer.resume=auto");
  if (threads > 0) overrides.push_back(fmt::format("trainer.threads={}", threads));
  return overrides;
}

// The failed trials, when there are `max_failures` of them: one line naming them.
std::string failures_line(const Manifest& manifest, const SweepRecord& sweep,
                          const Settings& settings) {
  if (settings.max_failures <= 0) return "";
  std::vector<std::string> failed;
  for (const SweepTrial& t : manifest.sweep_trials(sweep.id))
    if (t.status == kFailed)
      failed.push_back(
          fmt::format("trial {} ({})", t.number, t.error.empty() ? "failed" : t.error));
  if (static_cast<int64_t>(failed.size()) < settings.max_failures) return "";
  return fmt::format("{} trials failed (max_failures = {}): {}", failed.size(),
                     settings.max_failures, fmt::join(failed, "; "));
}

}  // namespace

std::optional<double> run_objective(const Manifest& manifest, const std::string& run_id,
                                    const SweepRecord& sweep) {
  std::optional<double> best;
  for (const MetricPoint& p : manifest.metrics(run_id, sweep.objective))
    if (std::isfinite(p.value) &&
        (!best || (sweep.direction == "min" ? p.value < *best : p.value > *best)))
      best = p.value;
  return best;
}

int work(const std::string& location, const std::string& sweep_id, int64_t threads) {
  Manifest manifest(location);
  const SweepRecord sweep = *manifest.find_sweep(sweep_id);
  const Settings settings = parse_settings(sweep.settings);
  const SearchSpace space = space_of(sweep);
  const auto strategy =
      make_strategy(sweep.strategy, space, settings.seed, sweep.direction == "min");
  Registry registry;
  PluginLoader plugins;
  TrainFitFn& fit = load_training(settings.plugin_dirs, registry, plugins);
  const DistributedEnv single{};
  for (;;) {
    if (manifest.find_sweep(sweep.id)->status != kRunning) return 0;
    std::optional<SweepTrial> trial = next_trial(manifest, sweep, *strategy, space);
    if (!trial) return 0;
    log::info("sweep {}: trial {}: {}", sweep.id, trial->number, fmt::join(trial->params, " "));
    const std::vector<std::string> overrides = trial_overrides(sweep, settings, *trial, threads);
    int status = 0;
    std::string error;
    try {
      const Config config = compose({settings.config_file, settings.task, overrides});
      status = train_one(fit, registry, plugins, config, overrides, notify_settings(config), single,
                         [&](Run& run) {
                           trial->run_id = run.id();
                           manifest.update_trial(*trial);
                         });
    } catch (const UserError& e) {  // the trial's config: it fails, the sweep goes on
      status = 2;
      error = e.what();
      log::error("sweep {}: trial {}: {}", sweep.id, trial->number, error);
    }
    if (status == 130) return 130;  // interrupted: the trial resumes with the sweep
    std::optional<RunRecord> run;
    if (!trial->run_id.empty()) run = manifest.find_run(trial->run_id);
    if (run) trial->objective = run_objective(manifest, run->id, sweep);
    if (run && (run->status == kFinished || run->status == kPruned)) {
      trial->status = run->status;
      trial->error.clear();
    } else {
      trial->attempts += 1;
      trial->error = run && !run->error.empty() ? run->error : error;
      trial->status = trial->attempts <= settings.retries ? kPending : kFailed;
    }
    trial->worker.clear();
    manifest.update_trial(*trial);
    if (trial->status == kFailed) {
      const std::string line = failures_line(manifest, sweep, settings);
      if (!line.empty()) {
        manifest.set_sweep_status(sweep.id, kFailed, line);
        log::error("sweep {} stopped: {}", sweep.id, line);
        return 0;
      }
    }
  }
}

}  // namespace mlq::sweep
