// runner <command> ...: a command a plugin registered (see mlq/plugin_command.hpp).
#include "commands.hpp"
#include "mlq/plugin/command.hpp"
#include "mlq/plugin/loader.hpp"

namespace mlq {

int plugin_command(const std::string& name, const std::vector<std::string>& args) {
  // --plugin-dir is the runner's; --task picks the plugin and stays for the command to see.
  std::vector<std::filesystem::path> plugin_dirs;
  std::vector<std::string> command_args;
  std::string task;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    if (arg == "--plugin-dir" && i + 1 < args.size()) {
      plugin_dirs.emplace_back(args[++i]);
      continue;
    }
    if (arg.rfind("--plugin-dir=", 0) == 0) {
      plugin_dirs.emplace_back(arg.substr(13));
      continue;
    }
    if (arg.rfind("--task=", 0) == 0) task = arg.substr(7);
    if (arg == "--task" && i + 1 < args.size()) task = args[i + 1];
    command_args.push_back(arg);
  }
  Registry registry;
  PluginLoader plugins;  // keeps the plugins loaded while their command runs
  plugins.load_all(PluginLoader::search_path(plugin_dirs), registry);
  return find_command(registry, name, task).run(command_args, registry);
}

}  // namespace mlq
