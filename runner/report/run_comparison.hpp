#pragma once
#include <map>
#include <string>
#include <vector>

#include "mlq/tracking/manifest.hpp"

namespace mlq {

// What `runner runs compare` and `runner report` show of several runs side by side.
struct RunComparison {
  std::vector<RunRecord> runs;
  // Config keys whose values differ: {key, value of run 0, value of run 1, ...}; "-" where absent.
  std::vector<std::vector<std::string>> config_differences;
  std::vector<std::string> metric_keys;                    // sorted, the union over the runs
  std::vector<std::map<std::string, double>> last_values;  // per run: key -> last value
};

RunComparison comparison_of(const Manifest& manifest, const std::vector<RunRecord>& runs);

}  // namespace mlq
