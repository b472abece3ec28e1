#include "mlq/plugin/loader.hpp"

#include <dlfcn.h>
#include <torch/version.h>

#include <fmt/format.h>

#include <algorithm>
#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/dll/shared_library.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "mlq/plugin/info.hpp"
#include "mlq/util/install_dirs.hpp"
#include "mlq/util/log.hpp"
#include "mlq/util/text.hpp"
#include "mlq/version.hpp"

namespace mlq {
namespace fs = std::filesystem;

namespace {

// Boost.DLL clears dlerror(); dlopen once more on the failure path to say why.
std::string dlopen_failure(const fs::path& file, const std::string& fallback) {
  void* handle = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle) {
    dlclose(handle);
    return fallback;
  }
  const char* reason = dlerror();
  return reason ? reason : fallback;
}

}  // namespace

struct PluginLoader::Libraries {
  std::vector<boost::dll::shared_library> handles;
};

PluginLoader::PluginLoader() : libraries_(std::make_unique<Libraries>()) {}
// Libraries are deliberately never unloaded: objects a plugin built (and their vtables) may
// outlive the loader in static storage; the OS reclaims them at exit.
PluginLoader::~PluginLoader() {
  (void)libraries_.release();
}

std::vector<fs::path> PluginLoader::search_path(const std::vector<fs::path>& extra_dirs) {
  std::vector<fs::path> dirs{builtin_plugin_dir()};
  if (const char* env = std::getenv("MLQ_PLUGIN_PATH"))
    for (const auto& dir : split(env, ':'))
      if (!dir.empty()) dirs.emplace_back(dir);
  dirs.insert(dirs.end(), extra_dirs.begin(), extra_dirs.end());
  return dirs;
}

void PluginLoader::load_all(const std::vector<fs::path>& dirs, Registry& registry, bool warn) {
  std::vector<fs::path> seen;
  for (const auto& dir : dirs) {
    std::error_code error;
    if (!fs::is_directory(dir, error)) continue;
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, error))
      if (entry.path().extension() == ".so" && entry.is_regular_file(error))
        files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto& file : files) {
      fs::path canonical = fs::weakly_canonical(file, error);
      if (std::find(seen.begin(), seen.end(), canonical) != seen.end()) continue;
      seen.push_back(canonical);
      train_library();  // a missing training library is no plugin's fault: that stops here
      try {
        load(file, registry);
      } catch (const PluginError& e) {
        registry.remove_file(file.string());
        refused_.push_back(e.what());
        registry.add_refused(e.what());
        if (warn) log::warn("{} (plugin not loaded)", e.what());
      }
    }
  }
}

boost::dll::shared_library& load_for_good(std::string_view file_name,
                                          boost::dll::load_mode::type mode) {
  const fs::path path = runner_library(file_name);
  boost::dll::fs::error_code error;
  auto library = std::make_unique<boost::dll::shared_library>(path.string(), error, mode);
  if (error) throw std::runtime_error(path.string() + ": " + dlopen_failure(path, error.message()));
  return *library.release();
}

boost::dll::shared_library& train_library() {
  // Loaded once, globally and for good, before any plugin: a plugin's dependency on
  // libmlq_train.so is then met by soname wherever its .so was dropped.
  static boost::dll::shared_library* library = [] {
    try {
      return &load_for_good("libmlq_train.so",
                            boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_global);
    } catch (const std::runtime_error& e) {
      const std::string path = runner_library("libmlq_train.so").string();
      throw PluginError(path + ": cannot load the training library (" +
                        std::string(e.what()).substr(path.size() + 2) + ")");
    }
  }();
  return *library;
}

const LoadedPlugin& PluginLoader::load(const fs::path& file, Registry& registry) {
  train_library();
  const std::string where = file.string();
  boost::dll::fs::error_code error;
  boost::dll::shared_library library(
      file.string(), error, boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
  if (error || !library.is_loaded()) {
    throw PluginError(fmt::format("{}: not a loadable shared library ({})", where,
                                  dlopen_failure(file, error.message())));
  }
  for (const char* symbol : {"mlq_plugin_info", "mlq_plugin_register"})
    if (!library.has(symbol))
      throw PluginError(fmt::format("{}: not an mlq plugin (missing symbol '{}')", where, symbol));

  const PluginInfo* info = library.get_alias<PluginInfoFn>("mlq_plugin_info")();
  if (!info || !info->name || !info->version || !info->torch_version || !info->tasks)
    throw PluginError(where + ": mlq_plugin_info() returned incomplete information");
  if (info->api_version != kApiVersion)
    throw PluginError(fmt::format(
        "{}: plugin '{}' was built for plugin API version {}, this runner has version {}; rebuild "
        "the plugin against this runner",
        where, info->name, info->api_version, kApiVersion));
  if (std::string_view(info->torch_version) != TORCH_VERSION)
    throw PluginError(fmt::format(
        "{}: plugin '{}' was built with LibTorch {}, this runner with LibTorch {}; rebuild the "
        "plugin against this runner",
        where, info->name, info->torch_version, TORCH_VERSION));
  for (const auto& loaded : plugins_)
    if (loaded.name == info->name)
      throw PluginError(fmt::format("{}: plugin name '{}' is already loaded from {}", where,
                                    info->name, loaded.file));

  registry.set_source(info->name, where);
  // Kept loaded from here on, whatever happens: a registration that fails halfway leaves entries
  // whose factories live in this library.
  libraries_->handles.push_back(std::move(library));
  try {
    libraries_->handles.back().get_alias<PluginRegisterFn>("mlq_plugin_register")(registry);
  } catch (const PluginError&) {
    throw;
  } catch (const std::exception& e) {
    throw PluginError(
        fmt::format("{}: registering plugin '{}' failed: {}", where, info->name, e.what()));
  }

  LoadedPlugin loaded{info->name, info->version, where, {}};
  for (const auto& task : split(info->tasks, ','))
    if (!trim(task).empty()) loaded.tasks.push_back(trim(task));
  plugins_.push_back(std::move(loaded));
  return plugins_.back();
}

std::string PluginLoader::versions_json() const {
  nlohmann::ordered_json versions = nlohmann::ordered_json::object();
  for (const auto& plugin : plugins_) versions[plugin.name] = plugin.version;
  return versions.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace mlq
