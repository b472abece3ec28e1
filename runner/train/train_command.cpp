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
#include "train/training.hpp"

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
  TrainFitFn& fit = load_training(parsed->plugin_dirs, registry, plugins);
  for (const auto& config : configs) registry.get("tasks", config.get_string("task"));

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
