#pragma once

namespace mlq {
// Bumped whenever the plugin contract (PluginInfo, Registry, Task, factory types) changes.
inline constexpr int kApiVersion = 3;  // 2: Model::macs_per_second, Task::batch_transform;
                                       // 3: Task::validation_media
inline constexpr const char* kVersion = "0.1.0";
}  // namespace mlq
