#pragma once
// Whether lower or higher values of a metric are better, for everything that ranks runs or
// trials: sweeps, checkpoint monitors and early stopping (when their mode is not set),
// `runs list --order-by` without asc/desc, and `runner regress`.
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

}  // namespace mlq
