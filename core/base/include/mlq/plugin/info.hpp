#pragma once
#include "mlq/plugin/registry.hpp"

namespace mlq {

// What a plugin's mlq_plugin_info() returns; read before the plugin registers anything.
struct PluginInfo {
  const char* name;
  const char* version;
  int api_version;            // must equal mlq::kApiVersion of the runner
  const char* torch_version;  // LibTorch the plugin was built with: must equal the runner's
  const char* tasks;          // comma-separated task names the plugin provides
};

using PluginInfoFn = const PluginInfo*();
using PluginRegisterFn = void(Registry&);

}  // namespace mlq
