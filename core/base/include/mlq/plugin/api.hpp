#pragma once
// What a plugin exports. Include this in exactly one source file of a plugin and write
//   MLQ_PLUGIN("transcription", "0.1.0", "transcription")
//   void mlq_register(mlq::Registry& registry) { ... }
// Both symbols are Boost.DLL aliases, read by mlq::PluginLoader before anything else runs.
#include <torch/version.h>
#include <boost/dll/alias.hpp>

#include "mlq/plugin/info.hpp"
#include "mlq/version.hpp"

#define MLQ_PLUGIN(NAME, VERSION, TASKS)                                                      \
  void mlq_register(mlq::Registry& registry);                                                 \
  namespace {                                                                                 \
  const mlq::PluginInfo* mlq_info_impl() {                                                    \
    static const mlq::PluginInfo info{NAME, VERSION, mlq::kApiVersion, TORCH_VERSION, TASKS}; \
    return &info;                                                                             \
  }                                                                                           \
  }                                                                                           \
  BOOST_DLL_ALIAS(mlq_info_impl, mlq_plugin_info)                                             \
  BOOST_DLL_ALIAS(mlq_register, mlq_plugin_register)
