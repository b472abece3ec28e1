#pragma once
// Whether lower or higher values of a metric are better, for everything that ranks runs or
// trials: sweeps, checkpoint monitors and early stopping (when their mode is not set),
// `runs list --order-by` without asc/desc, and `runner regress`.
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace mlq {

// What a metric computes and which way each key is better: a plugin declares it when it
// registers the metric (register_metric in mlq/plugin.hpp); the runner reads it to check a
// sweep's objective.
struct MetricKey {
  std::string name;  // as in compute()'s result, e.g. "onset_f1"; logged as val_/test_<name>
  bool lower_is_better = false;
};
using MetricKeys = std::vector<MetricKey>;
inline constexpr const char* kMetricKeysKind = "metric_keys";

// By name: losses and errors are lower-is-better (a key, after any train_/val_/test_ prefix, that
// is or ends with loss, error, err, mse, mae, rmse, wer or cer, after an underscore); anything
// else (accuracy, F1, R^2, ...) higher-is-better.
bool lower_is_better(std::string_view key);

// "min" or "max" for a key: `declared` (a plugin's MetricKeys) when it names the key (after its
// val_/test_ prefix), else by name.
std::string metric_mode(std::string_view key, const std::vector<MetricKeys>& declared = {});

class Config;
class Registry;

// The directions a config's runs go by: the config's `metrics.directions.<key> = "min"|"max"`
// first, then what the plugins of its `metrics.names` declare (with a registry), then the name.
struct MetricDirections {
  std::map<std::string, std::string> overrides;
  std::vector<MetricKeys> declared;
  bool all_declared = false;  // every metric of metrics.names declares its keys
  std::string mode(std::string_view key) const;
  // The keys runs log (train_loss, val_/test_ loss and every declared key) when all_declared.
  std::vector<std::string> logged_keys() const;
};
MetricDirections metric_directions(const Config& config, const Registry* registry = nullptr);

}  // namespace mlq
