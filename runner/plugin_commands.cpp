// runner <command> ...: a command a plugin registered (see mlq/plugin/command.hpp).
#include <toml++/toml.h>

#include "commands.hpp"
#include "mlq/launch/train_entry.hpp"
#include "mlq/plugin/command.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {
namespace {

// The value of `--name=V` or `--name V` in `args`; "" when absent.
std::string option_value(const std::vector<std::string>& args, const std::string& name) {
  const std::string flag = "--" + name;
  for (size_t i = 0; i < args.size(); ++i) {
    if (args[i].rfind(flag + "=", 0) == 0) return args[i].substr(flag.size() + 1);
    if (args[i] == flag && i + 1 < args.size()) return args[i + 1];
  }
  return "";
}

// The task of a command's --checkpoint, else of its --config file's `task` key; "" when neither
// says (find_command then asks for --task).
std::string implied_task(const std::vector<std::string>& args) {
  if (const std::string checkpoint = option_value(args, "checkpoint"); !checkpoint.empty()) {
    if (!train_library().has("mlq_checkpoint_config"))
      throw UserError("libmlq_train.so: missing symbol 'mlq_checkpoint_config' (a stale build?)");
    const Config config =
        train_library().get_alias<CheckpointConfigFn>("mlq_checkpoint_config")(checkpoint);
    return config.has("task") ? config.get_string("task") : "";
  }
  if (const std::string file = option_value(args, "config"); !file.empty()) {
    try {
      const toml::table table = toml::parse_file(file);
      if (const auto task = table["task"].value<std::string>()) return *task;
    } catch (const std::exception&) {
    }
  }
  return "";
}

}  // namespace

int plugin_command(const std::string& name, const std::vector<std::string>& args) {
  // --plugin-dir is the runner's; --task picks the plugin and stays for the command to see; the
  // rest is the command's own, in order.
  cxxopts::Options options("runner " + name);
  options.allow_unrecognised_options();
  add_plugin_dir_option(options);
  options.add_options()("task", "the task whose plugin provides the command",
                        cxxopts::value<std::string>()->default_value(""));
  const cxxopts::ParseResult result = parse_options(options, args);
  const std::string task = result["task"].as<std::string>();
  std::vector<std::string> command_args = result.unmatched();
  if (result.count("task")) command_args.insert(command_args.begin(), "--task=" + task);
  Registry registry;
  PluginLoader plugins;  // keeps the plugins loaded while their command runs
  plugins.load_all(PluginLoader::search_path(plugin_dirs(result)), registry);
  // Several tasks offering the command: the one the checkpoint or config names.
  size_t offering = 0;
  for (const std::string& key : registry.names("commands"))
    offering += key.size() > name.size() &&
                key.compare(key.size() - name.size() - 1, name.size() + 1, ":" + name) == 0;
  const std::string for_task = task.empty() && offering > 1 ? implied_task(command_args) : task;
  const std::string command_of = command_task(registry, name, for_task);
  const Registry::TaskScope scope(registry, command_of);
  return find_command(registry, name, command_of).run(command_args, registry);
}

}  // namespace mlq
