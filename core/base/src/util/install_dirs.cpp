#include "mlq/util/install_dirs.hpp"

#include <boost/dll/runtime_symbol_info.hpp>

namespace mlq {
namespace fs = std::filesystem;

fs::path executable_dir() {
  return fs::path(boost::dll::program_location().parent_path().string());
}

fs::path installed_prefix() {
  static const fs::path prefix = [] {
    const fs::path candidate = executable_dir().parent_path();
    std::error_code error;
    return fs::is_directory(candidate / "lib" / "mlq" / "plugins", error) ? candidate : fs::path();
  }();
  return prefix;
}

fs::path builtin_plugin_dir() {
  const fs::path prefix = installed_prefix();
  return prefix.empty() ? fs::path(MLQ_PLUGIN_BUILD_DIR) : prefix / "lib" / "mlq" / "plugins";
}

fs::path runner_library(std::string_view file_name) {
  const fs::path beside = executable_dir().parent_path() / "lib" / file_name;
  std::error_code error;
  return fs::exists(beside, error) ? beside : fs::path(MLQ_LIBRARY_BUILD_DIR) / file_name;
}

fs::path resolve_config_path(const fs::path& path) {
  const fs::path prefix = installed_prefix();
  std::error_code error;
  if (prefix.empty() || path.is_absolute() || fs::exists(path, error)) return path;
  const fs::path shipped = prefix / "share" / "mlq" / path;
  return fs::exists(shipped, error) ? shipped : path;
}

}  // namespace mlq
