#pragma once
// The typed registries: the factory signature of each kind, and helpers to register and build.
#include <functional>
#include <memory>

#include "mlq/tracking/metric_direction.hpp"
#include "mlq/train/callback.hpp"
#include "mlq/train/task.hpp"

namespace mlq {

using LossFn = std::function<torch::Tensor(const TensorMap& outputs, const TensorMap& batch)>;

using TaskFactory = std::function<std::shared_ptr<Task>()>;
using ModelFactory = std::function<std::shared_ptr<Model>(const Config& model_config)>;
using DatasetFactory =
    std::function<std::shared_ptr<Dataset>(const Config& data_config, Split split)>;
using LossFactory = std::function<LossFn(const Config& loss_config)>;
using MetricFactory = std::function<std::unique_ptr<Metric>(const Config& metric_config)>;
// Built for each name in the config's [callbacks] names, from its table [callbacks.<name>].
using CallbackFactory = std::function<std::shared_ptr<Callback>(const Config& callback_config)>;

inline void register_task(Registry& r, std::string name, TaskFactory f) {
  r.add("tasks", std::move(name), std::move(f));
}
inline void register_model(Registry& r, std::string name, ModelFactory f) {
  r.add("models", std::move(name), std::move(f));
}
inline void register_dataset(Registry& r, std::string name, DatasetFactory f) {
  r.add("datasets", std::move(name), std::move(f));
}
inline void register_loss(Registry& r, std::string name, LossFactory f) {
  r.add("losses", std::move(name), std::move(f));
}
// `keys`: what the metric computes and which way each is better (runner sweep checks its
// objective against them; without them, names tell: losses and errors lower, the rest higher).
inline void register_metric(Registry& r, std::string name, MetricFactory f, MetricKeys keys = {}) {
  if (!keys.empty()) r.add(kMetricKeysKind, name, std::move(keys));
  r.add("metrics", std::move(name), std::move(f));
}
inline void register_callback(Registry& r, std::string name, CallbackFactory f) {
  r.add("callbacks", std::move(name), std::move(f));
}

}  // namespace mlq
