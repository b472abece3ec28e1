#include "mlq/tracking/metric_direction.hpp"

#include "mlq/util/text.hpp"

namespace mlq {
namespace {

std::string_view without_split(std::string_view key) {
  for (std::string_view prefix : {"train_", "val_", "test_"})
    if (key.substr(0, prefix.size()) == prefix) return key.substr(prefix.size());
  return key;
}

}  // namespace

bool lower_is_better(std::string_view key) {
  const std::string name = to_lower(without_split(key));
  for (std::string_view word : {"loss", "error", "err", "mse", "mae", "rmse", "wer", "cer"}) {
    if (name == word) return true;
    const std::string suffix = "_" + std::string(word);
    if (name.size() > suffix.size() &&
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0)
      return true;
  }
  return false;
}

std::string metric_mode(std::string_view key, const std::vector<MetricKeys>& declared) {
  const std::string_view name = without_split(key);
  for (const MetricKeys& keys : declared)
    for (const MetricKey& k : keys)
      if (k.name == name) return k.lower_is_better ? "min" : "max";
  return lower_is_better(key) ? "min" : "max";
}

}  // namespace mlq
