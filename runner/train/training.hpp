#pragma once
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"
#include "mlq/launch/distributed_env.hpp"
#include "mlq/launch/train_entry.hpp"
#include "mlq/notify/settings.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/plugin/registry.hpp"

namespace mlq {

// Loads the plugins (from `plugin_dirs` and the default search path) into `registry`, and
// libmlq_train; returns its fit entry.
TrainFitFn& load_training(const std::vector<std::filesystem::path>& plugin_dirs, Registry& registry,
                          PluginLoader& plugins);

// One training run of `config` (rank 0 records it: run directory, manifest, notifications);
// returns the exit status: 0 (finished or pruned), 1 (failed), 2 (bad input, no run), 130
// (interrupted). `on_open` is called with the run once it exists.
int train_one(TrainFitFn& fit, const Registry& registry, const PluginLoader& plugins,
              const Config& config, const std::vector<std::string>& overrides,
              const NotifySettings& notify, const DistributedEnv& dist,
              const std::function<void(Run&)>& on_open = {});

}  // namespace mlq
