#include "mlq/tracking/metric_direction.hpp"

#include <fmt/format.h>

#include "mlq/config/tree.hpp"
#include "mlq/plugin/registry.hpp"
#include "mlq/util/error.hpp"
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

std::string MetricDirections::mode(std::string_view key) const {
  const auto found = overrides.find(std::string(key));
  return found != overrides.end() ? found->second : metric_mode(key, declared);
}

std::vector<std::string> MetricDirections::logged_keys() const {
  std::vector<std::string> keys{"train_loss", "val_loss", "test_loss"};
  for (const MetricKeys& metric : declared)
    for (const MetricKey& key : metric)
      for (const char* split : {"val_", "test_"}) keys.push_back(split + key.name);
  return keys;
}

MetricDirections metric_directions(const Config& config, const Registry* registry) {
  MetricDirections out;
  for (const std::string& key : config.keys("metrics.directions")) {
    const std::string mode = config.get_string("metrics.directions." + key);
    if (mode != "min" && mode != "max")
      throw ConfigError(
          fmt::format("config key 'metrics.directions.{}' ({}): expected \"min\" or "
                      "\"max\", got \"{}\"",
                      key, config.origin("metrics.directions." + key), mode));
    out.overrides[key] = mode;
  }
  if (!registry) return out;
  const std::vector<std::string> names = config.has("metrics.names")
                                             ? config.get_strings("metrics.names")
                                             : std::vector<std::string>{};
  out.all_declared = !names.empty();
  for (const std::string& name : names) {
    if (!registry->contains(kMetricKeysKind, name)) {
      out.all_declared = false;
      continue;
    }
    out.declared.push_back(registry->factory<MetricKeys>(kMetricKeysKind, name));
  }
  return out;
}

}  // namespace mlq
