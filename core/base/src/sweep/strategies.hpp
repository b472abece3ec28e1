#pragma once
// The strategies of make_strategy, one file each, and what they share.
#include <random>

#include "mlq/sweep/strategy.hpp"

namespace mlq {

std::unique_ptr<SearchStrategy> make_grid_strategy(const SearchSpace& space);
std::unique_ptr<SearchStrategy> make_random_strategy(const SearchSpace& space, uint64_t seed);
std::unique_ptr<SearchStrategy> make_tpe_strategy(const SearchSpace& space, uint64_t seed,
                                                  bool minimize);

// The generator of trial `number`: its draws depend on the sweep's seed and the number only.
inline std::mt19937_64 trial_generator(uint64_t seed, int64_t number) {
  std::seed_seq sequence{static_cast<uint32_t>(seed), static_cast<uint32_t>(seed >> 32),
                         static_cast<uint32_t>(number), static_cast<uint32_t>(number >> 32)};
  return std::mt19937_64(sequence);
}

// A value of `d` drawn uniformly (on its scale), as override text.
std::string random_value(const Dimension& d, std::mt19937_64& generator);

}  // namespace mlq
