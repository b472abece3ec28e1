#include "report/run_comparison.hpp"

#include <algorithm>
#include <set>

namespace mlq {

RunComparison comparison_of(const Manifest& manifest, const std::vector<RunRecord>& runs) {
  RunComparison out;
  out.runs = runs;
  std::vector<std::map<std::string, std::string>> params;
  std::set<std::string> param_keys, metric_keys;
  for (const RunRecord& run : runs) {
    params.push_back(manifest.params(run.id));
    out.last_values.push_back(manifest.last_metrics(run.id));
    for (const auto& [key, value] : params.back()) param_keys.insert(key);
    for (const auto& [key, value] : out.last_values.back()) metric_keys.insert(key);
  }
  for (const std::string& key : param_keys) {
    std::vector<std::string> row{key};
    for (const auto& run_params : params) {
      auto it = run_params.find(key);
      row.push_back(it == run_params.end() ? "-" : it->second);
    }
    if (std::any_of(row.begin() + 2, row.end(), [&](const std::string& v) { return v != row[1]; }))
      out.config_differences.push_back(std::move(row));
  }
  out.metric_keys.assign(metric_keys.begin(), metric_keys.end());
  return out;
}

}  // namespace mlq
