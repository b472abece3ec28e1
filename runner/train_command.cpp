// runner [--task=T] --config=F [overrides]: compose, load plugins and libmlq_train, train, record.
#include <fmt/format.h>
#include <boost/dll/shared_library.hpp>
#include "mlq/util/cli.hpp"

#include <cstdio>
#include <filesystem>
#include <optional>

#include "commands.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/config/override.hpp"
#include "mlq/launch/distributed_env.hpp"
#include "mlq/launch/train_entry.hpp"
#include "mlq/launch/trainer_options.hpp"
#include "mlq/notify/dispatch.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/log.hpp"

namespace mlq {
namespace fs = std::filesystem;
namespace {

struct TrainArgs {
  ComposeRequest compose;
  std::vector<fs::path> plugin_dirs;
  bool print_config = false;
  bool multirun = false;
};

std::optional<TrainArgs> parse(const std::vector<std::string>& args) {
  cxxopts::Options options("runner",
                           "Train and test a task: runner [--task=T] --config=FILE [overrides...]");
  add_compose_options(options);
  add_plugin_dir_option(options);
  options.add_options()("cfg", "print the resolved config and exit")(
      "multirun", "run every combination of comma-separated override values")("h,help",
                                                                              "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return std::nullopt;
  TrainArgs parsed;
  parsed.compose = compose_request(options, result);
  parsed.print_config = result.count("cfg") > 0;
  parsed.multirun = result.count("multirun") > 0;
  parsed.plugin_dirs = plugin_dirs(result);
  return parsed;
}

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

int train_one(TrainFitFn& fit, const Registry& registry, const PluginLoader& plugins,
              const Config& config, const std::vector<std::string>& overrides,
              const NotifySettings& notify, const DistributedEnv& dist) {
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

}  // namespace

int train_command(const std::vector<std::string>& args) {
  const auto parsed = parse(args);
  if (!parsed) return 0;
  const DistributedEnv dist = distributed_env();  // a malformed RANK etc. fails before anything
  std::vector<std::vector<std::string>> sweeps =
      parsed->multirun ? expand_sweeps(parsed->compose.overrides)
                       : std::vector<std::vector<std::string>>{parsed->compose.overrides};
  std::vector<Config> configs;
  for (const auto& overrides : sweeps)
    configs.push_back(compose({parsed->compose.config_file, parsed->compose.task, overrides}));
  if (parsed->print_config) {
    for (size_t i = 0; i < configs.size(); ++i) {
      if (configs.size() > 1) std::printf("# run %zu of %zu\n", i + 1, configs.size());
      std::fputs(configs[i].to_toml().c_str(), stdout);
    }
    return 0;
  }

  // Each run's process group rendezvouses on the one master port: one run per job.
  if (dist.world_size > 1 && configs.size() > 1)
    throw UserError(fmt::format("--multirun trains with one process only (this is rank {} of {})",
                                dist.rank, dist.world_size));

  // [trainer]'s values, [notify] and its credentials file are checked before any run exists.
  std::vector<NotifySettings> notify;
  for (const auto& config : configs) {
    TrainerOptions::from(config.section("trainer"));
    notify.push_back(notify_settings(config));
  }

  Registry registry;
  PluginLoader plugins;
  plugins.load_all(PluginLoader::search_path(parsed->plugin_dirs), registry);
  for (const auto& config : configs) registry.get("tasks", config.get_string("task"));
  if (!train_library().has("mlq_train_fit"))
    throw UserError("libmlq_train.so: missing symbol 'mlq_train_fit' (a stale build?)");
  TrainFitFn& fit = train_library().get_alias<TrainFitFn>("mlq_train_fit");

  int worst = 0;
  for (size_t i = 0; i < configs.size(); ++i) {
    if (configs.size() > 1)
      log::info("multirun {}/{}: {}", i + 1, configs.size(), fmt::join(sweeps[i], " "));
    const int status = train_one(fit, registry, plugins, configs[i], sweeps[i], notify[i], dist);
    worst = std::max(worst, status);
    if (status == 130) break;
  }
  return worst;
}

}  // namespace mlq
