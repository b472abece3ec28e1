#include "mlq/util/cli.hpp"

#include <cstdio>

#include "mlq/util/error.hpp"
#include "mlq/util/install_dirs.hpp"

namespace mlq {

cxxopts::ParseResult parse_options(cxxopts::Options& options,
                                   const std::vector<std::string>& args) {
  const std::string program = options.program();
  std::vector<const char*> argv{program.c_str()};
  for (const auto& arg : args) argv.push_back(arg.c_str());
  try {
    return options.parse(static_cast<int>(argv.size()), argv.data());
  } catch (const cxxopts::exceptions::exception& e) {
    throw UserError(std::string(e.what()) + " (see " + program + " --help)");
  }
}

bool printed_help(const cxxopts::Options& options, const cxxopts::ParseResult& result) {
  if (!result.count("help")) return false;
  std::fputs(options.help().c_str(), stdout);
  return true;
}

void add_compose_options(cxxopts::Options& options) {
  options.add_options()("task", "task name (default: `task` in the config file)",
                        cxxopts::value<std::string>()->default_value(""))(
      "config", "experiment file, e.g. configs/exp.toml", cxxopts::value<std::string>())(
      "overrides", "overrides", cxxopts::value<std::vector<std::string>>());
  options.parse_positional({"overrides"});
  options.positional_help("[overrides...]");
}

void add_plugin_dir_option(cxxopts::Options& options) {
  options.add_options()("plugin-dir", "also load plugins from DIR (repeatable)",
                        cxxopts::value<std::vector<std::string>>());
}

std::vector<std::filesystem::path> plugin_dirs(const cxxopts::ParseResult& result) {
  std::vector<std::filesystem::path> dirs;
  if (result.count("plugin-dir"))
    for (const auto& dir : result["plugin-dir"].as<std::vector<std::string>>()) dirs.push_back(dir);
  return dirs;
}

ComposeRequest compose_request(const cxxopts::Options& options,
                               const cxxopts::ParseResult& result) {
  if (!result.count("config"))
    throw UserError("missing --config=FILE (see " + options.program() + " --help)");
  ComposeRequest request;
  request.config_file = resolve_config_path(result["config"].as<std::string>());
  request.task = result["task"].as<std::string>();
  if (result.count("overrides"))
    request.overrides = result["overrides"].as<std::vector<std::string>>();
  return request;
}

}  // namespace mlq
