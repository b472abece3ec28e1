#pragma once
// How a sweep picks its trials: grid (every combination of choices, in order), random (seeded) or
// tpe (the Tree-structured Parzen Estimator, as Optuna's default sampler: random for the first
// trials, then each value drawn where the best trials are dense and the others sparse).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mlq/sweep/space.hpp"

namespace mlq {

// A trial as strategies see it: its values (one per dimension, as override text) and, once it
// finished or was pruned, the objective it reached.
struct TrialPoint {
  int64_t number = 0;
  std::vector<std::string> values;
  std::optional<double> objective;
};

class SearchStrategy {
 public:
  virtual ~SearchStrategy() = default;
  // The values of trial `number`, given the trials so far; nullopt when the space has no more
  // (a grid's last combination is behind). The same number and history give the same values.
  virtual std::optional<std::vector<std::string>> propose(
      int64_t number, const std::vector<TrialPoint>& history) const = 0;
  // How many distinct trials the space holds; 0 for no limit.
  virtual int64_t size() const { return 0; }
};

inline constexpr const char* kStrategies = "grid, random or tpe";
// `minimize`: lower objectives are better. Throws ConfigError for an unknown name, or a grid over
// a continuous dimension.
std::unique_ptr<SearchStrategy> make_strategy(const std::string& name, const SearchSpace& space,
                                              uint64_t seed, bool minimize);

}  // namespace mlq
