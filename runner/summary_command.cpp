// runner summary --config=F [overrides]: the task's model, its layers, parameters and compute.
#include <cstdio>

#include "commands.hpp"
#include "mlq/config/compose.hpp"
#include "mlq/launch/train_entry.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {

int summary_command(const std::vector<std::string>& args) {
  cxxopts::Options options("runner summary",
                           "The model of a config: layers, trainable parameters, multiply-"
                           "accumulates per second of audio");
  add_compose_options(options);
  add_plugin_dir_option(options);
  options.add_options()("h,help", "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const Config config = compose(compose_request(options, result));
  Registry registry;
  PluginLoader plugins;
  plugins.load_all(PluginLoader::search_path(plugin_dirs(result)), registry);
  if (!train_library().has("mlq_train_summary"))
    throw UserError("libmlq_train.so: missing symbol 'mlq_train_summary' (a stale build?)");
  SummaryRequest request{&config, &registry};
  train_library().get_alias<TrainSummaryFn>("mlq_train_summary")(request);
  return 0;
}

}  // namespace mlq
