#pragma once
// Where the runner finds its own parts, both in its build tree (build/bin/runner, build/lib,
// build/plugins) and once installed by `cmake --install` or the Debian package (<prefix>/bin,
// <prefix>/lib, <prefix>/lib/mlq/plugins, <prefix>/share/mlq/configs).
#include <filesystem>
#include <string_view>

namespace mlq {

// The folder of the running executable.
std::filesystem::path executable_dir();
// The installation prefix when the running executable sits in an installed layout, else empty.
std::filesystem::path installed_prefix();
// The plugins that ship with the runner: <prefix>/lib/mlq/plugins, else the build's folder.
std::filesystem::path builtin_plugin_dir();
// One of the runner's libraries (libmlq_train.so, libmlq_notify.so) beside the executable's
// ../lib, else in the build tree.
std::filesystem::path runner_library(std::string_view file_name);
// A relative config path that does not exist from the working folder but does under
// <prefix>/share/mlq (so `runner --config=configs/exp.toml` works from any folder once
// installed); any other path unchanged.
std::filesystem::path resolve_config_path(const std::filesystem::path& path);

}  // namespace mlq
