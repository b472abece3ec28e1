// Each value drawn uniformly on its dimension's scale, from the sweep's seed and the trial
// number: a resumed sweep draws what it would have drawn.
#include <algorithm>
#include <cmath>

#include "sweep/strategies.hpp"

namespace mlq {

std::string random_value(const Dimension& d, std::mt19937_64& generator) {
  std::uniform_real_distribution<double> unit(0.0, 1.0);
  const double u = unit(generator);
  switch (d.kind) {
    case Dimension::Kind::Choice:
      return d.choices[std::min(d.choices.size() - 1,
                                static_cast<size_t>(u * static_cast<double>(d.choices.size())))];
    case Dimension::Kind::Real:
      return format_number(
          d.log ? std::exp(std::log(d.low) + u * (std::log(d.high) - std::log(d.low)))
                : d.low + u * (d.high - d.low),
          false);
    case Dimension::Kind::Integer: {
      const double low = d.log ? std::log(d.low - 0.5 > 0 ? d.low - 0.5 : d.low) : d.low - 0.5;
      const double high = d.log ? std::log(d.high + 0.5) : d.high + 0.5;
      const double x = low + u * (high - low);
      return format_number(std::clamp(std::round(d.log ? std::exp(x) : x), d.low, d.high), true);
    }
  }
  return "";
}

namespace {

class RandomStrategy : public SearchStrategy {
 public:
  RandomStrategy(const SearchSpace& space, uint64_t seed) : space_(space), seed_(seed) {}
  std::optional<std::vector<std::string>> propose(int64_t number,
                                                  const std::vector<TrialPoint>&) const override {
    std::mt19937_64 generator = trial_generator(seed_, number);
    std::vector<std::string> values;
    for (const Dimension& d : space_.dimensions) values.push_back(random_value(d, generator));
    return values;
  }

 private:
  SearchSpace space_;
  uint64_t seed_;
};

}  // namespace

std::unique_ptr<SearchStrategy> make_random_strategy(const SearchSpace& space, uint64_t seed) {
  return std::make_unique<RandomStrategy>(space, seed);
}

}  // namespace mlq
