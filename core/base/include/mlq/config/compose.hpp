#pragma once
#include <filesystem>
#include <string>
#include <vector>

#include "mlq/config/tree.hpp"

namespace mlq {

struct ComposeRequest {
  std::filesystem::path config_file;   // e.g. configs/exp.toml
  std::string task;                    // --task; empty: take `task` from the file
  std::vector<std::string> overrides;  // as typed
};

// Composes a configuration: the experiment file's [defaults] choose one file per group from
// <dir of config_file>/<task>/<group>/<option>.toml, merged under key <group>; the experiment's
// own tables merge over the defaults, then overrides over both; then ${a.b} and ${env:NAME}
// interpolation. The result has `task` set and no [defaults] table.
Config compose(const ComposeRequest& request);

}  // namespace mlq
