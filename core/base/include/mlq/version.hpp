#pragma once

namespace mlq {
// Bumped whenever the plugin contract (PluginInfo, Registry, Task, factory types) changes.
inline constexpr int kApiVersion = 1;
inline constexpr const char* kVersion = "0.1.0";
}  // namespace mlq
