// runner plugins: every plugin found, its version and file, and what it registered.
#include <fmt/format.h>
#include "mlq/util/cli.hpp"

#include <cstdio>

#include "commands.hpp"
#include "mlq/plugin/loader.hpp"

namespace mlq {

int plugins_command(const std::vector<std::string>& args) {
  cxxopts::Options options("runner plugins", "List plugins and what each registered");
  add_plugin_dir_option(options);
  options.add_options()("h,help", "this help");
  const cxxopts::ParseResult result = parse_options(options, args);
  if (printed_help(options, result)) return 0;
  const auto dirs = PluginLoader::search_path(plugin_dirs(result));
  Registry registry;
  PluginLoader loader;
  loader.load_all(dirs, registry, /*warn=*/false);  // listed below instead
  std::string searched;
  for (const auto& dir : dirs) searched += (searched.empty() ? "" : ":") + dir.string();
  if (loader.plugins().empty() && loader.refused().empty()) {
    std::printf("no plugins found (searched %s)\n", searched.c_str());
    return 0;
  }
  for (const auto& plugin : loader.plugins()) {
    std::printf("%s %s  %s\n", plugin.name.c_str(), plugin.version.c_str(), plugin.file.c_str());
    for (const auto& kind : registry_kinds()) {
      std::vector<std::string> names;
      for (const auto* entry : registry.entries_of(plugin.name))
        if (entry->kind == kind) names.push_back(entry->name);
      if (!names.empty())
        std::printf("  %-17s %s\n", (kind + ":").c_str(),
                    fmt::format("{}", fmt::join(names, ", ")).c_str());
    }
  }
  for (const auto& line : loader.refused()) std::printf("refused: %s\n", line.c_str());
  return loader.refused().empty() ? 0 : 1;
}

}  // namespace mlq
