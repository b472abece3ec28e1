#pragma once

namespace mlq {
// Bumped whenever the plugin contract (PluginInfo, Registry, Task, factory types) changes.
// 2: Model::macs_per_second, Task::batch_transform; 3: Task::validation_media;
// 4: one plugin header (mlq/plugin.hpp), headers under mlq/<folder>/, libmlq_train, callbacks.
inline constexpr int kApiVersion = 4;
inline constexpr const char* kVersion = "0.1.0";
}  // namespace mlq
