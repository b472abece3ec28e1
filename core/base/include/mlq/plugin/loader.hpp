#pragma once
#include <boost/dll/shared_library.hpp>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "mlq/plugin/registry.hpp"

namespace mlq {

struct LoadedPlugin {
  std::string name;
  std::string version;
  std::string file;
  std::vector<std::string> tasks;
};

// Finds, checks and loads plugins into a Registry. Libraries stay loaded for the life of the
// loader (never dlclose'd under a live object), so keep it alive as long as anything built by a
// plugin lives.
class PluginLoader {
 public:
  PluginLoader();
  ~PluginLoader();

  // Plugin folders in discovery order: the runner's own (builtin_plugin_dir()), MLQ_PLUGIN_PATH
  // entries, then the given extra folders (--plugin-dir). Missing folders are skipped.
  static std::vector<std::filesystem::path> search_path(
      const std::vector<std::filesystem::path>& extra_dirs);

  // Loads every *.so in the folders, in order. A file that fails (not a shared library, missing
  // symbol, API or LibTorch version mismatch, duplicate name, a registration that throws) is
  // refused: its one-line reason goes to refused() (and, with `warn`, to the log as a warning),
  // nothing it registered stays, and the other files still load.
  void load_all(const std::vector<std::filesystem::path>& dirs, Registry& registry,
                bool warn = true);
  // Loads one file; any failure throws PluginError naming the file.
  const LoadedPlugin& load(const std::filesystem::path& file, Registry& registry);

  const std::vector<LoadedPlugin>& plugins() const { return plugins_; }
  // load_all's refused files: one line each, "<file>: <why>".
  const std::vector<std::string>& refused() const { return refused_; }
  // {"plugin": "version", ...} for the manifest.
  std::string versions_json() const;

 private:
  struct Libraries;
  std::unique_ptr<Libraries> libraries_;
  std::vector<LoadedPlugin> plugins_;
  std::vector<std::string> refused_;
};

// One of the runner's own libraries (runner_library(file_name)), loaded with `mode` for the life
// of the process (never unloaded); throws std::runtime_error "<path>: <the loader's reason>".
boost::dll::shared_library& load_for_good(std::string_view file_name,
                                          boost::dll::load_mode::type mode);

// libmlq_train.so (LibTorch), loaded on first use (runner_library()). Plugins link against it; the
// runner takes its fit entry from it.
boost::dll::shared_library& train_library();

}  // namespace mlq
