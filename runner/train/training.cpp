// Training runs in this process: plugins and libmlq_train loaded once, then one run at a time
// (runner's training command, --multirun, and the trials of runner sweep).
#include "train/training.hpp"

#include <fmt/format.h>

#include <boost/dll/shared_library.hpp>

#include "mlq/notify/dispatch.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/error.hpp"
#include "mlq/util/log.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

// A worker of rank > 0 in a data-parallel job: it trains, but only rank 0 owns the run (its
// directory, manifest row, log file and notifications).
int train_worker(TrainFitFn& fit, const Registry& registry, const Config& config,
                 const DistributedEnv& dist) {
  FitRequest request;
  request.config = &config;
  request.registry = &registry;
  request.rank = dist.rank;
  request.world_size = dist.world_size;
  try {
    fit(request);
  } catch (const Interrupted& e) {
    log::error("rank {} {}", dist.rank, e.what());
    return 130;
  } catch (const std::exception& e) {
    log::error("rank {} failed: {}", dist.rank, e.what());
    return dynamic_cast<const ConfigError*>(&e) ? 2 : 1;
  }
  return 0;
}

}  // namespace

TrainFitFn& load_training(const std::vector<fs::path>& plugin_dirs, Registry& registry,
                          PluginLoader& plugins) {
  plugins.load_all(PluginLoader::search_path(plugin_dirs), registry);
  if (!train_library().has("mlq_train_fit"))
    throw UserError("libmlq_train.so: missing symbol 'mlq_train_fit' (a stale build?)");
  return train_library().get_alias<TrainFitFn>("mlq_train_fit");
}

int train_one(TrainFitFn& fit, const Registry& registry, const PluginLoader& plugins,
              const Config& config, const std::vector<std::string>& overrides,
              const NotifySettings& notify, const DistributedEnv& dist,
              const std::function<void(Run&)>& on_open) {
  if (dist.rank != 0) return train_worker(fit, registry, config, dist);
  // The manifest and the run exist only once the trainer has built everything from the config: a
  // bad value fails with no run row and no run folder.
  RunRecording recording;
  recording.manifest_location = manifest_location(config);
  recording.overrides = overrides;
  recording.plugin_versions = plugins.versions_json();
  recording.on_open = [&](Run& opened) {
    log::to_file(opened.dir() / "run.log");
    log::info("run {} ({}): {}", opened.id(), config.get_string("task"), opened.dir().string());
    if (on_open) on_open(opened);
  };
  std::optional<Run>& run = recording.run;
  FitRequest request;
  request.config = &config;
  request.registry = &registry;
  request.rank = dist.rank;
  request.world_size = dist.world_size;
  request.recording = &recording;
  log::hold_until_file();  // set-up's lines (data synthesis, say) open the run's run.log
  int status = 0;
  // The status reaches the manifest first; a summary that cannot be written (a full disk) is
  // one more error line, and the run still ends with its own error.
  auto finish = [&](const std::string& final_status, const std::string& error) {
    try {
      run->finish(final_status, error);
    } catch (const std::exception& e) {
      log::error("run {}: {}", run->id(), e.what());
      status = std::max(status, 1);
    }
  };
  try {
    fit(request);
    finish(kFinished, "");
    if (status == 0) log::info("run {} finished", run->id());
  } catch (const Pruned& e) {  // a sweep's successive halving stopped it: that went well
    log::info("run {} {}", run->id(), e.what());
    finish(kPruned, e.what());
  } catch (const Interrupted& e) {
    if (!run) {
      log::to_file({});
      log::error("{}", e.what());
      return 130;
    }
    status = 130;
    log::error("run {} {}; resume with trainer.resume=auto", run->id(), e.what());
    finish(kKilled, e.what());
  } catch (const std::exception& e) {
    if (!run) {  // nothing was created; a sweep goes on with its next combination
      log::to_file({});
      log::error("{}", e.what());
      return dynamic_cast<const UserError*>(&e) ? 2 : 1;
    }
    status = dynamic_cast<const ConfigError*>(&e) ? 2 : 1;  // bad input, or a run that failed
    log::error("run {} failed: {}", run->id(), e.what());
    finish(kFailed, e.what());
  }
  notify_run_end(notify, *recording.manifest,
                 run->id());  // never throws; a failure to send is a WARN line
  log::to_file({});
  return status;
}

}  // namespace mlq
