// runner <command> ...: a command a plugin registered (see mlq/plugin/command.hpp).
#include "commands.hpp"
#include "mlq/plugin/command.hpp"
#include "mlq/plugin/loader.hpp"
#include "mlq/util/cli.hpp"

namespace mlq {

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
  return find_command(registry, name, task).run(command_args, registry);
}

}  // namespace mlq
