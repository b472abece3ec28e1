#include "mlq/sweep/strategy.hpp"

#include <fmt/format.h>

#include "mlq/util/error.hpp"
#include "sweep/strategies.hpp"

namespace mlq {

std::unique_ptr<SearchStrategy> make_strategy(const std::string& name, const SearchSpace& space,
                                              uint64_t seed, bool minimize) {
  if (name == "grid") return make_grid_strategy(space);
  if (name == "random") return make_random_strategy(space, seed);
  if (name == "tpe") return make_tpe_strategy(space, seed, minimize);
  throw ConfigError(fmt::format("sweep strategy '{}' is not one of {}", name, kStrategies));
}

}  // namespace mlq
